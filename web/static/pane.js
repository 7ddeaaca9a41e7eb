// pane.js: what the views shown beside the list share (compare.js, problems.js): the
// pane element, its callbacks, whether it is open, and hiding it. Each view fills it.

import { clear } from './dom.js';

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

  hide() {
    this.generation++;
    this.el.hidden = true;
    clear(this.el);
  }
}
