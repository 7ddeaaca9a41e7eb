// detail.js: one recorded call in full (#/requests/ID): the view that loads it and
// lays it out (title, actions, overview, validation errors), with the parts of their
// own modules: timing (timing.js), retry chain (chain.js), headers and bodies
// (message.js), copy as code (snippet.js), notes (notes.js) and replay (replay.js).

import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { getRequest, listRequests } from './api.js';
import { timingView } from './timing.js';
import { chainList, findChain } from './chain.js';
import { headersTable, bodyPanel } from './message.js';
import { snippetControls } from './snippet.js';
import { replayControls } from './replay.js';
import { notesPanel } from './notes.js';
import { editSendControls } from './editsend.js';

export class DetailView {
  constructor(el, { onClose, onError, navigate, onReplayed, onNotesSaved }) {
    this.el = el;
    this.onNotesSaved = onNotesSaved || (() => {});
    this.onReplayed = onReplayed || (() => {});
    this.onClose = onClose;
    this.onError = onError;
    this.navigate = navigate;
    this.id = null;
    this.row = null;
    this.raw = false;
    this.generation = 0;
    this.objectUrls = [];
  }

  get isOpen() {
    return !this.el.hidden;
  }

  async show(id) {
    const gen = ++this.generation;
    this.id = String(id);
    this.el.hidden = false;
    document.body.classList.add('detail-open');
    if (!this.row || String(this.row.id) !== this.id) {
      this.revokeUrls();
      clear(this.el);
      this.el.appendChild(this.header(null));
      this.el.appendChild(h('p', { class: 'detail-loading' }, `Loading call #${id}…`));
    }
    let row;
    try {
      row = await getRequest(id);
    } catch (err) {
      if (gen !== this.generation) return;
      clear(this.el);
      this.el.appendChild(this.header(null));
      this.el.appendChild(h('p', { class: 'detail-loading' },
        err.status === 404 ? `There is no recorded call #${id}.` : `Call #${id} could not be loaded.`));
      this.onError(err);
      return;
    }
    if (gen !== this.generation) return;
    this.row = row;
    this.render(row);
    this.el.scrollTop = 0;
    // keyboard scrolling goes to the detail, unless the reader is typing somewhere
    const active = document.activeElement;
    if (!active || active === document.body || active.closest('#list-pane')) this.el.focus({ preventScroll: true });
    this.loadChain(row, gen);
    this.loadReplays(row, gen);
  }

  // The calls replayed from this one (replay_of = its id), as links.
  async loadReplays(row, gen) {
    let page;
    try {
      page = await listRequests(new URLSearchParams([['replay_of', String(row.id)]]), { limit: 20 });
    } catch {
      return; // the overview keeps its dash
    }
    if (gen !== this.generation || !this.replaysEl || !page.items.length) return;
    clear(this.replaysEl);
    page.items.forEach((r, i) => this.replaysEl.append(i ? ', ' : '',
      h('a', { href: `#/requests/${r.id}`, testid: 'detail-replay' }, `#${r.id}`)));
  }

  hide() {
    this.generation++;
    this.id = null;
    this.row = null;
    this.el.hidden = true;
    document.body.classList.remove('detail-open');
    this.revokeUrls();
    clear(this.el);
  }

  revokeUrls() {
    for (const u of this.objectUrls) URL.revokeObjectURL(u);
    this.objectUrls = [];
  }

  // --- layout --------------------------------------------------------------------------

  header(row) {
    const close = h('button', { type: 'button', class: 'btn btn-icon detail-close', testid: 'detail-close', title: 'Close (Esc)', 'aria-label': 'Close detail' }, '×');
    close.addEventListener('click', () => this.onClose());
    if (!row) return h('div', { class: 'detail-head' }, h('div', { class: 'detail-title' }), close);
    const sc = fmt.statusClass(row.status);
    return h('div', { class: 'detail-head' },
      h('div', { class: 'detail-title' },
        h('span', { class: `badge badge-lg ${sc}`, testid: 'detail-status', title: row.error || fmt.reason(row.status) }, fmt.statusText(row.status)),
        h('span', { class: 'detail-reason' }, row.status === null ? 'no response' : fmt.reason(row.status)),
        h('span', { class: 'method' }, row.method),
        h('span', { class: 'detail-path', title: row.url }, row.path || row.url),
        h('span', { class: 'detail-id' }, `#${row.id}`)),
      close);
  }

  render(row) {
    this.revokeUrls();
    clear(this.el);
    this.el.appendChild(this.header(row));
    this.el.appendChild(this.actions(row));
    if (row.error) {
      this.el.appendChild(h('div', { class: 'callout callout-error' }, h('strong', null, 'Transport error: '), row.error));
    }
    this.el.appendChild(this.overview(row));
    this.el.appendChild(section('Notes', notesPanel(row, {
      onSaved: (fresh) => {
        this.row = fresh;
        this.onNotesSaved(fresh);
      },
      onError: (err) => this.onError(err),
    })));
    this.el.appendChild(section('Timing', timingView(row)));
    this.chainEl = h('div', { class: 'retry-chain', testid: 'retry-chain' });
    this.chainEl.appendChild(chainList(row, [row]));
    this.el.appendChild(section('Retry chain', this.chainEl));
    if (row.error_fields && typeof row.error_fields === 'object' && Object.keys(row.error_fields).length) {
      this.el.appendChild(section('Validation errors', this.errorsTable(row)));
    }
    this.el.appendChild(section('Request', [
      headersTable(row.request_headers, 'request-headers'),
      this.body(row, 'request'),
    ]));
    this.el.appendChild(section('Response', [
      headersTable(row.response_headers, 'response-headers'),
      this.body(row, 'response'),
    ]));
  }

  actions(row) {
    const curl = snippetControls(row, { onError: (err) => this.onError(err) });
    const { button: rep, box: repBox } = replayControls(row, {
      onError: (err) => this.onError(err),
      onReplayed: (fresh) => this.onReplayed(fresh),
      navigate: (hash) => this.navigate(hash),
    });
    const { button: editBtn, box: editBox } = editSendControls(row, {
      onError: (err) => this.onError(err),
      onReplayed: (fresh) => this.onReplayed(fresh),
      navigate: (hash) => this.navigate(hash),
    });
    const raw = h('button', { type: 'button', class: 'btn', testid: 'raw-toggle', 'aria-pressed': String(this.raw), title: 'Show the bodies exactly as stored' }, 'Raw');
    raw.addEventListener('click', () => {
      this.raw = !this.raw;
      raw.setAttribute('aria-pressed', String(this.raw));
      for (const b of this.el.querySelectorAll('.body-view')) b.dispatchEvent(new Event('rawchange'));
    });

    const prev = h('a', { class: 'btn', testid: 'compare-previous', href: `#/compare/${row.id}/previous`, title: 'Compare with the call before it to the same method, host and path' }, 'Compare with previous');

    return h('div', { class: 'detail-actions-wrap' },
      h('div', { class: 'detail-actions' }, curl.button, rep, editBtn, raw, prev, curl.note),
      repBox,
      editBox,
      curl.text);
  }

  overview(row) {
    const t = row.timing || {};
    const items = [
      ['URL', h('span', { class: 'url' }, row.url), true],
      ['Status', row.status === null ? h('span', null, h('span', { class: 'badge serr' }, 'ERR'), ' ', row.error ? 'no response (the transport error is above)' : 'no response')
        : h('span', null, h('span', { class: `badge ${fmt.statusClass(row.status)}` }, String(row.status)), ' ', fmt.reason(row.status))],
      ['Method', row.method],
      ['Started', h('span', { title: fmt.utcTitle(row.started_at) }, fmt.localTime(row.started_at, true), h('span', { class: 'muted' }, ' local'))],
      ['UTC', h('span', { class: 'mono' }, row.started_at || '—')],
      ['Duration', fmt.duration(row.duration_ms) + (t.queued_ms ? ` (+ ${fmt.duration(t.queued_ms)} queued)` : '')],
      ['Key', row.key ? h('a', { href: `#/?key=${encodeURIComponent(row.key)}`, class: 'mono', title: 'All calls with this key' }, row.key) : h('span', { class: 'muted' }, 'none')],
      ['Attempt', String(row.attempt ?? 1)],
      ['Retry of', row.retry_of ? h('a', { href: `#/requests/${row.retry_of}` }, `#${row.retry_of}`) : h('span', { class: 'muted' }, '—')],
      ['Replay of', row.replay_of ? h('a', { href: `#/requests/${row.replay_of}`, testid: 'detail-replay-of' }, `#${row.replay_of}`) : h('span', { class: 'muted' }, '—')],
      ['Replays', this.replaysEl = h('span', { testid: 'detail-replays' }, h('span', { class: 'muted' }, '—'))],
      ['Source', row.source || '—'],
      ['Request id', row.request_id ? h('a', { href: `#/?request_id=${encodeURIComponent(row.request_id)}`, class: 'mono', testid: 'detail-request-id', title: 'The API\'s request id (the one its support desk asks for); all calls with it' }, row.request_id) : h('span', { class: 'muted' }, '—')],
      ['Origin', row.origin ? h('a', { href: `#/?origin=${encodeURIComponent(row.origin)}`, testid: 'detail-origin', title: 'All calls recorded there' }, row.origin) : h('span', { class: 'muted' }, '—')],
      ['HTTP version', row.http_version || '—'],
      ['Request size', sizeText(row.request_size, row.request_truncated)],
      ['Response size', sizeText(row.response_size, row.response_truncated)],
      ['Remote IP', row.remote_ip || '—'],
      ['Content type', row.content_type || '—'],
    ];
    if (row.error_message) items.push(['API message', row.error_message, true]);
    const dl = h('dl', { class: 'overview' });
    for (const [k, v, wide] of items) {
      const cls = wide ? 'wide' : null;
      dl.append(h('dt', { class: cls }, k), h('dd', { class: cls }, v));
    }
    return dl;
  }

  // --- retry chain ---------------------------------------------------------------------

  async loadChain(row, gen) {
    const chain = await findChain(row, () => gen === this.generation);
    if (!chain || gen !== this.generation || !this.chainEl) return;
    clear(this.chainEl);
    this.chainEl.appendChild(chainList(row, chain));
  }

  // --- 422 errors ----------------------------------------------------------------------

  errorsTable(row) {
    const tbody = h('tbody');
    for (const [field, msgs] of Object.entries(row.error_fields)) {
      const list = Array.isArray(msgs) ? msgs : [msgs];
      tbody.appendChild(h('tr', { data: { field } },
        h('th', { scope: 'row', class: 'mono' },
          h('a', { href: `#/?field=${encodeURIComponent(field)}`, title: `All calls whose 422 names ${field}` }, field)),
        h('td', null, h('ul', { class: 'msgs' }, list.map((m) => h('li', null, typeof m === 'string' ? m : JSON.stringify(m)))))));
    }
    return [
      row.error_message ? h('p', { class: 'api-message' }, row.error_message) : null,
      h('table', { class: 'kv errors-table', testid: 'errors-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Messages'))),
        tbody),
    ];
  }

  // --- bodies --------------------------------------------------------------------------

  body(row, which) {
    return bodyPanel(row, which, { isRaw: () => this.raw, keepUrl: (url) => this.objectUrls.push(url) });
  }
}

// --- helpers -----------------------------------------------------------------------------

function section(title, content) {
  return h('section', { class: 'detail-section' }, h('h3', null, title), content);
}

function sizeText(size, truncated) {
  return truncated ? h('span', null, fmt.bytes(size), ' ', h('span', { class: 'tag warn' }, 'truncated')) : fmt.bytes(size);
}

