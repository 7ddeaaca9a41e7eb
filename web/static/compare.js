// compare.js: two calls side by side (#/compare/A/B, B a row id or "previous": the call
// before A to the same endpoint). The diff is the server's (GET /api/requests/A/diff,
// the library's reqlog_diff, as `reqlog diff`): fields, timing (never a difference),
// headers, bodies as JSON paths or text lines. Ignored differences (volatile values,
// paths the reader ignored) are greyed with their reason; "Show ignored" hides them;
// each difference can be ignored, each ignored one compared, and the reader's paths are
// chips that remove themselves. Recorded values are text nodes only.

import { h, clear } from './dom.js';
import { getDiff } from './api.js';
import { Pane } from './pane.js';

const MARK = { changed: '~', added: '+', removed: '−', same: '' };

// "a,b" -> ['a', 'b']
const pathList = (text) => (text || '').split(',').map((s) => s.trim()).filter(Boolean);

export const compareHash = (a, b, ignore = [], keep = []) => {
  const p = new URLSearchParams();
  if (ignore.length) p.set('ignore', ignore.join(','));
  if (keep.length) p.set('keep', keep.join(','));
  const q = p.toString();
  return `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}${q ? `?${q}` : ''}`;
};

// A value of an entry as one line: absent (the side has none) as an em dash.
function valueText(v, absent) {
  if (absent) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export class CompareView extends Pane {
  constructor(el, callbacks) {
    super(el, callbacks);
    this.showIgnored = true;
    this.a = null;
    this.b = null;
    this.ignore = [];
    this.keep = [];
  }

  async show(a, b, params) {
    const gen = this.open();
    this.a = a;
    this.b = b;
    this.ignore = pathList(params.get('ignore'));
    this.keep = pathList(params.get('keep'));
    this.el.appendChild(this.head(null));
    this.el.appendChild(h('p', { class: 'detail-loading' }, `Comparing #${a} with ${b === 'previous' ? 'the previous call' : `#${b}`}…`));
    let d;
    try {
      d = await getDiff(a, b, { ignore: this.ignore.join(','), keep: this.keep.join(',') });
    } catch (err) {
      if (gen !== this.generation) return;
      clear(this.el);
      this.el.appendChild(this.head(null));
      this.el.appendChild(h('p', { class: 'detail-loading', testid: 'compare-failed' }, err.message));
      if (err.status !== 404) this.onError(err);
      return;
    }
    if (gen !== this.generation) return;
    this.render(d);
    this.el.scrollTop = 0;
  }

  // --- the reader's paths --------------------------------------------------------------

  go(ignore, keep) {
    this.navigate(compareHash(this.a, this.b, ignore, keep));
  }

  ignorePath(path) {
    this.go([...new Set([...this.ignore, path])], this.keep.filter((p) => p !== path));
  }

  comparePath(path) {
    if (this.ignore.includes(path)) this.go(this.ignore.filter((p) => p !== path), this.keep);
    else this.go(this.ignore, [...new Set([...this.keep, path])]);
  }

  // --- layout --------------------------------------------------------------------------

  head(d) {
    const close = h('button', { type: 'button', class: 'btn btn-icon detail-close', testid: 'compare-close', title: 'Close (Esc)', 'aria-label': 'Close comparison' }, '×');
    close.addEventListener('click', () => this.onClose());
    if (!d) return h('div', { class: 'detail-head' }, h('div', { class: 'detail-title' }, 'Compare'), close);
    return h('div', { class: 'detail-head' },
      h('div', { class: 'detail-title' },
        h('span', { class: `badge badge-lg ${d.equal ? 's2xx' : 's4xx'}`, testid: 'compare-summary', data: { equal: d.equal, differences: d.differences, ignored: d.ignored } },
          d.equal ? 'equal' : `${d.differences} difference${d.differences === 1 ? '' : 's'}`),
        h('span', { class: 'muted' }, `${d.ignored} ignored`),
        h('span', null, 'A ', h('a', { href: `#/requests/${d.a.id}`, testid: 'compare-a' }, `#${d.a.id}`),
          ' · B ', h('a', { href: `#/requests/${d.b.id}`, testid: 'compare-b' }, `#${d.b.id}`))),
      close);
  }

  controls() {
    const box = h('input', { type: 'checkbox', testid: 'compare-show-ignored' });
    box.checked = this.showIgnored;
    box.addEventListener('change', () => {
      this.showIgnored = box.checked;
      this.el.classList.toggle('hide-ignored', !this.showIgnored);
    });
    const chip = (path, kind) => {
      const x = h('button', { type: 'button', class: 'chip-x', title: `Stop ${kind === 'ignore' ? 'ignoring' : 'comparing'} ${path}`, 'aria-label': `remove ${path}` }, '×');
      x.addEventListener('click', () => {
        if (kind === 'ignore') this.go(this.ignore.filter((p) => p !== path), this.keep);
        else this.go(this.ignore, this.keep.filter((p) => p !== path));
      });
      return h('span', { class: `path-chip ${kind}`, testid: kind === 'ignore' ? 'compare-ignored-path' : 'compare-kept-path', data: { path } }, path, x);
    };
    return h('div', { class: 'compare-controls' },
      h('label', { class: 'compare-toggle' }, box, ' Show ignored'),
      this.ignore.length ? h('span', { class: 'path-chips' }, 'Ignoring: ', this.ignore.map((p) => chip(p, 'ignore'))) : null,
      this.keep.length ? h('span', { class: 'path-chips' }, 'Comparing: ', this.keep.map((p) => chip(p, 'keep'))) : null,
      h('span', { class: 'muted compare-legend' }, '~ changed · − only in A · + only in B · grey: ignored'));
  }

  render(d) {
    clear(this.el);
    this.el.classList.toggle('hide-ignored', !this.showIgnored);
    this.el.appendChild(this.head(d));
    this.el.appendChild(this.controls());
    this.el.appendChild(section('Call', this.entries(d.fields, d)));
    this.el.appendChild(section('Timing (not compared)', this.timing(d)));
    this.el.appendChild(section('Request headers', this.entries(d.request_headers, d)));
    this.el.appendChild(section('Request body', this.body(d.request_body, d)));
    this.el.appendChild(section('Response headers', this.entries(d.response_headers, d)));
    this.el.appendChild(section('Response body', this.body(d.response_body, d)));
  }

  table(d, rows) {
    return h('table', { class: 'kv compare-table' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, 'Path'),
        h('th', { scope: 'col' }, `A #${d.a.id}`), h('th', { scope: 'col' }, `B #${d.b.id}`), h('th', { scope: 'col' }, ''))),
      h('tbody', null, rows));
  }

  entries(list, d) {
    if (!list || !list.length) return h('p', { class: 'muted' }, 'None on either side.');
    return this.table(d, list.map((e) => this.entryRow(e)));
  }

  entryRow(e) {
    const ignored = typeof e.ignored === 'string';
    let action = null;
    if (e.state !== 'same') {
      action = h('button', { type: 'button', class: 'btn btn-small', testid: ignored ? 'compare-keep' : 'compare-ignore', title: ignored ? `Compare ${e.path}` : `Ignore ${e.path}` }, ignored ? 'Compare' : 'Ignore');
      action.addEventListener('click', () => (ignored ? this.comparePath(e.path) : this.ignorePath(e.path)));
    }
    return h('tr', {
      testid: 'compare-row',
      class: `d-${e.state}${ignored ? ' d-ignored' : ''}`,
      data: { path: e.path, state: e.state, ignored: ignored ? e.ignored : undefined },
      title: ignored ? `Ignored: ${e.ignored}` : null,
    },
    h('td', { class: 'd-mark' }, ignored ? '=' : MARK[e.state] || ''),
    h('th', { scope: 'row', class: 'd-path' }, e.path),
    h('td', { class: 'd-a' }, valueText(e.a, e.state === 'added')),
    h('td', { class: 'd-b' }, valueText(e.b, e.state === 'removed')),
    h('td', { class: 'd-act' }, action, ignored ? h('span', { class: 'd-why' }, e.ignored) : null));
  }

  timing(d) {
    const ms = (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(3)} ms`);
    return h('table', { class: 'kv compare-table compare-timing', testid: 'compare-timing' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Phase'), h('th', { scope: 'col' }, `A #${d.a.id}`), h('th', { scope: 'col' }, `B #${d.b.id}`))),
      h('tbody', null, (d.timing || []).map((p) => h('tr', { data: { phase: p.phase } },
        h('th', { scope: 'row' }, p.phase.replace(/_ms$/, '')), h('td', null, ms(p.a)), h('td', null, ms(p.b))))));
  }

  body(b, d) {
    if (!b || b.kind === 'none') return h('p', { class: 'muted', testid: 'compare-body-none' }, 'No body on either side.');
    const note = h('p', { class: 'muted compare-kind' }, b.kind === 'json' ? 'JSON, compared by path' : b.kind === 'text' ? 'Text, compared by line' : 'Binary, compared whole');
    if (!b.differences && !b.ignored) return [note, h('p', { class: 'muted', testid: 'compare-body-same' }, 'The same.')];
    if (b.kind === 'text') return [note, this.lines(b.lines || [])];
    return [note, this.entries(b.changes, d)];
  }

  lines(list) {
    return h('div', { class: 'compare-lines', role: 'table' }, list.map((l) => {
      if (l.op === 'skip') return h('div', { class: 'd-line d-skip', testid: 'compare-line', data: { op: 'skip' } }, `… ${l.count} unchanged line${l.count === 1 ? '' : 's'}`);
      const mark = l.op === 'added' ? '+' : l.op === 'removed' ? '−' : ' ';
      return h('div', { class: `d-line d-${l.op}`, testid: 'compare-line', data: { op: l.op } },
        h('span', { class: 'd-no' }, l.a ?? ''), h('span', { class: 'd-no' }, l.b ?? ''),
        h('span', { class: 'd-mark' }, mark), h('span', { class: 'd-text' }, l.text));
    }));
  }
}

function section(title, content) {
  return h('section', { class: 'detail-section' }, h('h3', null, title), content);
}
