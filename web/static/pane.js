// pane.js: what the views shown beside the list share (compare.js, problems.js): the
// pane element, its callbacks, whether it is open, hiding it, and loading one API
// answer into it (problems.js, mock.js). Each view fills it.

import { h, clear } from './dom.js';
import { request } from './api.js';

export class Pane {
  // el: the pane's <section>; onClose() closes it (back to the list), onError(err) shows
  // an API error, navigate(hash) goes elsewhere.
  constructor(el, { onClose, onError, navigate }) {
    this.el = el;
    this.onClose = onClose;
    this.onError = onError;
    this.navigate = navigate;
    this.generation = 0;
  }

  get isOpen() {
    return !this.el.hidden;
  }

  // Shows the pane emptied; returns the generation the caller's loads belong to.
  open() {
    this.el.hidden = false;
    document.body.classList.add('detail-open');
    clear(this.el);
    return ++this.generation;
  }

  // The pane's head: TITLE (text or an element) in bold and a close button (data-testid
  // CLOSE_ID, aria-label LABEL) that calls onClose().
  headRow(title, closeId, label) {
    const close = h('button', { type: 'button', class: 'btn btn-icon detail-close', testid: closeId, title: 'Close (Esc)', 'aria-label': label }, '×');
    close.addEventListener('click', () => this.onClose());
    return h('div', { class: 'detail-head' }, h('div', { class: 'detail-title' }, h('strong', null, title)), close);
  }

  // Opens the pane with head() and the LOADING line, fetches URL and calls
  // render(answer); on an error shows head() and the FAILED line and reports it. An
  // answer that comes after the pane was opened again or hidden is dropped.
  async load(url, { head, loading, failed, render }) {
    const gen = this.open();
    this.el.appendChild(head());
    this.el.appendChild(h('p', { class: 'detail-loading' }, loading));
    let answer;
    try {
      answer = await request(url);
    } catch (err) {
      if (gen !== this.generation) return;
      clear(this.el);
      this.el.appendChild(head());
      this.el.appendChild(h('p', { class: 'detail-loading' }, failed));
      this.onError(err);
      return;
    }
    if (gen !== this.generation) return;
    render(answer);
  }

  hide() {
    this.generation++;
    this.el.hidden = true;
    clear(this.el);
  }
}
