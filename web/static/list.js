// list.js: the list of recorded calls: first page, keyset paging ("load older"), the
// keyboard selection and the live tail (EventSource on /api/stream).

import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { listRequests, streamUrl } from './api.js';

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
    this.newestId = 0;
    this.next = null;
    this.selectedId = null;
    this.openId = null;
    this.generation = 0;
    this.loaded = false;
    this.live = false;
    this.source = null;
    this.retryTimer = null;
    this.unseen = 0;

    loadOlder.addEventListener('click', () => this.loadOlder());
    pill.addEventListener('click', () => {
      this.scroller().scrollTop = 0;
      this.resetUnseen();
    });
    tbody.addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-id]');
      if (!tr || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
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
      frag.appendChild(this.renderRow(row));
    }
    this.tbody.appendChild(frag);
  }

  renderRow(row) {
    const sc = fmt.statusClass(row.status);
    let query = '';
    try {
      query = new URL(row.url).search;
    } catch {
      query = '';
    }
    const tr = h('tr', {
      testid: 'request-row',
      class: `row ${sc}`,
      data: { id: row.id, status: row.status === null || row.status === undefined ? 'error' : row.status },
      'aria-selected': String(String(row.id) === String(this.selectedId)),
    },
    h('td', { class: 'c-time', title: fmt.utcTitle(row.started_at) }, fmt.shortTime(row.started_at)),
    h('td', { class: 'c-method' }, h('span', { class: 'method' }, row.method)),
    h('td', { class: 'c-path' },
      h('a', { href: `#/requests/${row.id}`, title: row.url, class: 'path-link' },
        h('span', { class: 'path' }, row.path || row.url),
        query ? h('span', { class: 'query' }, query) : null),
      row.attempt > 1 ? h('span', { class: 'tag retry', title: `Attempt ${row.attempt}, retry of #${row.retry_of}` }, `retry ${row.attempt}`) : null,
      row.error ? h('span', { class: 'row-error' }, row.error) : null),
    h('td', { class: 'c-status' },
      h('span', { class: `badge ${sc}`, title: row.error || fmt.reason(row.status) }, fmt.statusText(row.status))),
    h('td', { class: 'c-dur num' }, fmt.duration(row.duration_ms)),
    h('td', { class: 'c-key', title: row.key || 'no key' }, row.key || '—'),
    h('td', { class: 'c-size num', title: `request ${fmt.bytes(row.request_size)}, response ${fmt.bytes(row.response_size)}` },
      fmt.bytes(row.response_size)));
    if (String(row.id) === String(this.openId)) tr.classList.add('open');
    return tr;
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
    this.stopStream();
    const src = new EventSource(streamUrl(this.filters, this.newestId));
    this.source = src;
    document.body.classList.remove('live-broken');
    src.addEventListener('row', (e) => {
      let row;
      try {
        row = JSON.parse(e.data);
      } catch {
        return;
      }
      this.insertLive([row]);
    });
    src.addEventListener('open', () => document.body.classList.remove('live-broken'));
    src.addEventListener('error', () => {
      // The browser would reconnect with the old ?after=; reconnect ourselves from the
      // newest row shown instead, so nothing is shown twice or missed.
      if (this.source !== src) return;
      document.body.classList.add('live-broken');
      this.stopStream();
      this.retryTimer = setTimeout(() => {
        if (this.live && this.loaded) this.startStream();
      }, 2000);
    });
  }

  stopStream() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
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
      const tr = this.renderRow(row);
      tr.classList.add('fresh');
      this.tbody.insertBefore(tr, this.tbody.firstElementChild);
    }
    if (anchor && !atTop) {
      const shift = anchor.getBoundingClientRect().top - before;
      if (shift) sc.scrollTop += shift;
      this.unseen += rows.length;
      this.pill.textContent = `↑ ${this.unseen} new`;
      this.pill.hidden = false;
    }
    this.updateNote();
    this.onLoaded(this.ids.size);
    this.onLiveRows(rows);
  }

  resetUnseen() {
    this.unseen = 0;
    this.pill.hidden = true;
  }
}
