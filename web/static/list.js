// list.js: the list of recorded calls: first page, keyset paging ("load older"), the
// keyboard selection and the live tail's rows, put on top without moving what the
// reader looks at. Rows are drawn by listrow.js; the live tail's connection is
// stream.js.

import { clear } from './dom.js';
import { listRequests } from './api.js';
import { rowElement } from './listrow.js';
import { LiveStream } from './stream.js';

const PAGE = 50;

export class CallList {
  constructor({ pane, tbody, loadOlder, pill, note, liveToggle, onOpen, onError, onLoaded, onLiveRows }) {
    this.pane = pane;
    this.tbody = tbody;
    this.loadOlderBtn = loadOlder;
    this.pill = pill;
    this.note = note;
    this.liveToggle = liveToggle;
    this.onOpen = onOpen;
    this.onError = onError;
    this.onLoaded = onLoaded || (() => {});
    this.onLiveRows = onLiveRows || (() => {});
    this.filters = new URLSearchParams();
    this.ids = new Set();
    this.origins = new Set();
    this.newestId = 0;
    this.next = null;
    this.selectedId = null;
    this.openId = null;
    this.generation = 0;
    this.loaded = false;
    this.live = false;
    this.stream = new LiveStream({
      onRow: (row) => this.insertLive([row]),
      onLost: () => {
        if (this.live && this.loaded) this.startStream();
      },
    });
    this.unseen = 0;

    loadOlder.addEventListener('click', () => this.loadOlder());
    pill.addEventListener('click', () => {
      this.scroller().scrollTop = 0;
      this.resetUnseen();
    });
    tbody.addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-id]');
      if (!tr || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
      if (e.target.closest('.c-pick')) return; // pick.js: choosing calls to compare
      e.preventDefault();
      this.select(tr.dataset.id, false);
      this.onOpen(tr.dataset.id);
    });
    const onScroll = () => {
      if (this.unseen && this.scroller().scrollTop <= 4) this.resetUnseen();
    };
    pane.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('scroll', onScroll, { passive: true });
  }

  // The element that scrolls the list: the pane on wide screens, the page on narrow ones.
  scroller() {
    const oy = getComputedStyle(this.pane).overflowY;
    return oy === 'auto' || oy === 'scroll' ? this.pane : document.scrollingElement;
  }

  // Replaces the list with the newest page for FILTERS. Returns false on an API error.
  async load(filters) {
    const gen = ++this.generation;
    this.filters = new URLSearchParams(filters);
    this.stopStream();
    this.pane.classList.add('loading');
    let page;
    try {
      page = await listRequests(this.filters, { limit: PAGE });
    } catch (err) {
      if (gen !== this.generation) return false;
      this.pane.classList.remove('loading');
      this.reset();
      this.setNext(null); // nothing to page through: no "Load older"
      this.loaded = false;
      this.showNote('The calls could not be loaded.');
      this.onLoaded(null);
      this.onError(err);
      return false;
    }
    if (gen !== this.generation) return false;
    this.pane.classList.remove('loading');
    this.reset();
    this.loaded = true;
    this.appendRows(page.items);
    this.setNext(page.next);
    this.updateNote();
    this.scroller().scrollTop = 0;
    this.onLoaded(this.ids.size);
    if (this.live) this.startStream();
    return true;
  }

  reset() {
    clear(this.tbody);
    this.ids.clear();
    this.noteOrigins(null);
    this.newestId = 0;
    this.next = null;
    this.resetUnseen();
  }

  async loadOlder() {
    if (this.next === null) return;
    const gen = this.generation;
    this.loadOlderBtn.disabled = true;
    this.loadOlderBtn.textContent = 'Loading…';
    try {
      const page = await listRequests(this.filters, { limit: PAGE, before: this.next });
      if (gen !== this.generation) return;
      this.appendRows(page.items);
      this.setNext(page.next);
      this.onLoaded(this.ids.size);
    } catch (err) {
      this.onError(err);
    } finally {
      this.loadOlderBtn.disabled = false;
      this.loadOlderBtn.textContent = 'Load older';
    }
  }

  // Fetches the newest page again and puts the rows not shown yet on top.
  async refreshNewer() {
    if (!this.loaded) return;
    const gen = this.generation;
    try {
      const page = await listRequests(this.filters, { limit: PAGE });
      if (gen !== this.generation) return;
      this.insertLive(page.items.filter((r) => r.id > this.newestId));
    } catch (err) {
      this.onError(err);
    }
  }

  setNext(next) {
    this.next = next === undefined ? null : next;
    this.loadOlderBtn.hidden = this.next === null;
  }

  appendRows(rows) {
    const frag = document.createDocumentFragment();
    for (const row of rows) {
      if (this.ids.has(row.id)) continue;
      this.ids.add(row.id);
      if (row.id > this.newestId) this.newestId = row.id;
      frag.appendChild(rowElement(row, this));
    }
    this.tbody.appendChild(frag);
    this.noteOrigins(rows);
  }

  // The Origin column is shown once the rows listed come from more than one origin (a
  // local history mostly has one: the column would repeat it on every row). ROWS null:
  // the list was emptied.
  noteOrigins(rows) {
    if (rows === null) this.origins.clear();
    for (const row of rows || []) this.origins.add(row.origin);
    this.tbody.closest('table').classList.toggle('multi-origin', this.origins.size > 1);
  }

  showNote(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  updateNote() {
    if (!this.loaded) return;
    this.showNote(this.ids.size ? '' : 'No recorded calls match these filters.');
  }

  rows() {
    return [...this.tbody.querySelectorAll('tr[data-id]')];
  }

  // ROW changed (its notes were saved): its line is drawn again where it is.
  updateRow(row) {
    const tr = this.tbody.querySelector(`tr[data-id="${CSS.escape(String(row.id))}"]`);
    if (tr) tr.replaceWith(rowElement(row, this));
  }

  // --- selection -----------------------------------------------------------------------

  select(id, scroll = true) {
    for (const tr of this.tbody.querySelectorAll('tr[aria-selected="true"]')) tr.setAttribute('aria-selected', 'false');
    this.selectedId = id === null ? null : String(id);
    const tr = id === null ? null : this.tbody.querySelector(`tr[data-id="${CSS.escape(String(id))}"]`);
    if (tr) {
      tr.setAttribute('aria-selected', 'true');
      if (scroll) tr.scrollIntoView({ block: 'nearest' });
    }
  }

  move(delta) {
    const rows = this.rows();
    if (!rows.length) return;
    let i = rows.findIndex((tr) => tr.dataset.id === this.selectedId);
    if (i < 0) i = delta > 0 ? -1 : rows.length;
    i = Math.max(0, Math.min(rows.length - 1, i + delta));
    this.select(rows[i].dataset.id);
    if (i === rows.length - 1 && delta > 0 && this.next !== null) this.loadOlder();
  }

  openSelected() {
    if (this.selectedId !== null) this.onOpen(this.selectedId);
  }

  // The row shown in the detail view gets a marker.
  markOpen(id) {
    this.openId = id === null ? null : String(id);
    for (const tr of this.tbody.querySelectorAll('tr.open')) tr.classList.remove('open');
    if (id !== null) {
      const tr = this.tbody.querySelector(`tr[data-id="${CSS.escape(String(id))}"]`);
      if (tr) tr.classList.add('open');
      this.select(id); // a row not listed (yet) is selected when it comes
    }
  }

  revealOpen() {
    if (this.openId === null) return;
    const tr = this.tbody.querySelector(`tr[data-id="${CSS.escape(this.openId)}"]`);
    if (tr) tr.scrollIntoView({ block: 'nearest' });
  }

  // --- live tail -----------------------------------------------------------------------

  setLive(on) {
    this.live = on;
    this.liveToggle.checked = on;
    document.body.classList.toggle('is-live', on);
    if (on && this.loaded) this.startStream();
    if (!on) this.stopStream();
  }

  startStream() {
    this.stream.open(this.filters, this.newestId);
  }

  stopStream() {
    this.stream.close();
  }

  // New rows go on top without moving what the reader looks at: when the list is
  // scrolled down, the scroll position is moved by the height that was inserted above.
  insertLive(rows) {
    rows = rows.filter((r) => !this.ids.has(r.id)).sort((a, b) => a.id - b.id);
    if (!rows.length) return;
    const sc = this.scroller();
    const atTop = sc.scrollTop <= 4;
    const anchor = this.tbody.firstElementChild;
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    for (const row of rows) {
      this.ids.add(row.id);
      if (row.id > this.newestId) this.newestId = row.id;
      const tr = rowElement(row, this);
      tr.classList.add('fresh');
      this.tbody.insertBefore(tr, this.tbody.firstElementChild);
    }
    this.noteOrigins(rows);
    if (anchor && !atTop) {
      const shift = anchor.getBoundingClientRect().top - before;
      if (shift) sc.scrollTop += shift;
      this.unseen += rows.length;
      this.pill.textContent = `↑ ${this.unseen} new`;
      this.pill.hidden = false;
    }
    this.updateNote();
    this.onLiveRows(rows); // first: the count they add is known before the summary is drawn
    this.onLoaded(this.ids.size);
  }

  resetUnseen() {
    this.unseen = 0;
    this.pill.hidden = true;
  }
}
