// detail.js: one recorded call in full (#/requests/ID): overview, timing phases, retry
// chain, 422 errors, headers, bodies (foldable JSON, raw, hex for binary), copy as cURL
// and replay.

import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { getRequest, listRequests, replay, replayPlan } from './api.js';
import { jsonTree, tryParse } from './json.js';

const PHASES = [
  ['queued', 'Queued', 'waiting for the client-side rate limiter'],
  ['dns', 'DNS', 'name lookup'],
  ['connect', 'Connect', 'TCP connect'],
  ['tls', 'TLS', 'TLS handshake'],
  ['ttfb', 'TTFB', 'request sent, waiting for the first response byte'],
  ['download', 'Download', 'receiving the response'],
];

const HEX_PREVIEW = 512;

export class DetailView {
  constructor(el, { onClose, onError, navigate, onReplayed }) {
    this.el = el;
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
    this.el.appendChild(section('Timing', this.timing(row)));
    this.chainEl = h('div', { class: 'retry-chain', testid: 'retry-chain' });
    this.chainEl.appendChild(this.chainList(row, [row]));
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
    const curlText = h('pre', { class: 'curl-text', testid: 'curl-text', tabindex: '0', hidden: true });
    const copyState = h('span', { class: 'action-note', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', class: 'btn', testid: 'copy-curl', title: 'The key is left as $REQLOG_API_KEY' }, 'Copy as cURL');
    copy.addEventListener('click', async () => {
      const cmd = curlCommand(row);
      curlText.textContent = cmd;
      curlText.hidden = false;
      let copied = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(cmd);
          copied = true;
        }
      } catch {
        copied = false;
      }
      copyState.textContent = copied ? 'Copied to the clipboard.' : 'Select the command below to copy it.';
      if (!copied) selectText(curlText);
    });

    const { button: rep, box: repBox } = this.replayControls(row);

    const raw = h('button', { type: 'button', class: 'btn', testid: 'raw-toggle', 'aria-pressed': String(this.raw), title: 'Show the bodies exactly as stored' }, 'Raw');
    raw.addEventListener('click', () => {
      this.raw = !this.raw;
      raw.setAttribute('aria-pressed', String(this.raw));
      for (const b of this.el.querySelectorAll('.body-view')) b.dispatchEvent(new Event('rawchange'));
    });

    return h('div', { class: 'detail-actions-wrap' },
      h('div', { class: 'detail-actions' }, copy, rep, raw, copyState),
      repBox,
      curlText);
  }

  // Replay first asks the server what it would send (GET …/replay), says it, and sends
  // only once that is confirmed: whether the key goes, and which one, is never a surprise.
  replayControls(row) {
    const text = h('p', { class: 'replay-text', testid: 'replay-text' });
    const send = h('button', { type: 'button', class: 'btn', testid: 'replay-send' }, 'Send');
    const cancel = h('button', { type: 'button', class: 'btn', testid: 'replay-cancel' }, 'Cancel');
    const box = h('div', { class: 'replay-confirm', testid: 'replay-confirm', role: 'group', 'aria-label': 'Confirm the replay', hidden: true },
      text, h('div', { class: 'detail-actions' }, send, cancel));
    const rep = h('button', { type: 'button', class: 'btn', testid: 'replay', title: 'Send this call again through the recorder (a new row)' }, 'Replay');
    const reset = () => {
      rep.disabled = false;
      rep.textContent = 'Replay';
    };
    rep.addEventListener('click', async () => {
      rep.disabled = true;
      try {
        text.textContent = replaySentence(await replayPlan(row.id));
        box.hidden = false;
        send.focus();
      } catch (err) {
        this.onError(err);
        reset();
      }
    });
    cancel.addEventListener('click', () => {
      box.hidden = true;
      reset();
      rep.focus();
    });
    send.addEventListener('click', async () => {
      box.hidden = true;
      rep.textContent = 'Replaying…';
      try {
        const fresh = await replay(row.id);
        this.onReplayed(fresh);
        this.navigate(`#/requests/${fresh.id}`);
      } catch (err) {
        this.onError(err);
      } finally {
        reset();
      }
    });
    return { button: rep, box };
  }

  overview(row) {
    const t = row.timing || {};
    const items = [
      ['URL', h('span', { class: 'url' }, row.url), true],
      ['Status', row.status === null ? h('span', null, h('span', { class: 'badge serr' }, 'ERR'), ' ', row.error || 'no response')
        : h('span', null, h('span', { class: `badge ${fmt.statusClass(row.status)}` }, String(row.status)), ' ', fmt.reason(row.status))],
      ['Method', row.method],
      ['Started', h('span', { title: fmt.utcTitle(row.started_at) }, fmt.localTime(row.started_at, true), h('span', { class: 'muted' }, ' local'))],
      ['UTC', h('span', { class: 'mono' }, row.started_at || '—')],
      ['Duration', fmt.duration(row.duration_ms) + (t.queued_ms ? ` (+ ${fmt.duration(t.queued_ms)} queued)` : '')],
      ['Key', row.key ? h('a', { href: `#/?key=${encodeURIComponent(row.key)}`, class: 'mono', title: 'All calls with this key' }, row.key) : h('span', { class: 'muted' }, 'none')],
      ['Attempt', String(row.attempt ?? 1)],
      ['Retry of', row.retry_of ? h('a', { href: `#/requests/${row.retry_of}` }, `#${row.retry_of}`) : h('span', { class: 'muted' }, '—')],
      ['Source', row.source || '—'],
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

  timing(row) {
    const t = row.timing || {};
    const num = (v) => (typeof v === 'number' && v > 0 ? v : 0);
    const total = num(t.total_ms ?? row.duration_ms);
    const ms = {
      queued: num(t.queued_ms),
      dns: num(t.dns_ms),
      connect: num(t.connect_ms),
      tls: num(t.tls_ms),
      ttfb: num(t.ttfb_ms),
    };
    ms.download = Math.max(0, total - ms.dns - ms.connect - ms.tls - ms.ttfb);
    const span = PHASES.reduce((s, [p]) => s + ms[p], 0);
    const bar = h('div', { class: 'timing-bar', testid: 'timing-bar', role: 'img',
      'aria-label': PHASES.map(([p, label]) => `${label} ${fmt.duration(ms[p])}`).join(', ') });
    const legend = h('ul', { class: 'timing-legend' });
    for (const [p, label, what] of PHASES) {
      const share = span > 0 ? ms[p] / span : 0;
      const seg = h('span', {
        class: `tseg tseg-${p}${ms[p] === 0 ? ' tseg-zero' : ''}`,
        data: { phase: p, ms: ms[p] },
        title: `${label}: ${fmt.duration(ms[p])} (${(share * 100).toFixed(1)}%) — ${what}`,
      });
      // Proportional width through the CSSOM (allowed by the CSP, unlike style="").
      seg.style.flexGrow = String(share);
      seg.style.flexBasis = '0';
      if (share >= 0.08) seg.appendChild(h('span', { class: 'tseg-label' }, label));
      bar.appendChild(seg);
      legend.appendChild(h('li', { class: ms[p] === 0 ? 'zero' : '' },
        h('span', { class: `swatch tseg-${p}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-name', title: what }, label), ' ',
        h('span', { class: 'legend-ms' }, fmt.duration(ms[p]))));
    }
    const note = span === 0 ? h('p', { class: 'muted' }, 'No timing was recorded for this call.') : null;
    return [bar, legend, note];
  }

  // --- retry chain ---------------------------------------------------------------------

  chainList(current, chain) {
    if (chain.length <= 1) {
      return h('p', { class: 'muted chain-none' },
        current.attempt > 1 ? `Attempt ${current.attempt}; the earlier attempts are not recorded.` : 'First attempt; no retries recorded.');
    }
    const ol = h('ol', { class: 'chain' });
    for (const r of chain) {
      const sc = fmt.statusClass(r.status);
      const inner = [
        h('span', { class: 'chain-attempt' }, `attempt ${r.attempt ?? '?'}`),
        h('span', { class: `badge ${sc}` }, fmt.statusText(r.status)),
        h('span', { class: 'chain-id' }, `#${r.id}`),
        h('span', { class: 'muted' }, fmt.duration(r.duration_ms)),
      ];
      ol.appendChild(h('li', null, String(r.id) === String(current.id)
        ? h('span', { class: 'chain-item current', 'aria-current': 'page' }, inner)
        : h('a', { class: 'chain-item', href: `#/requests/${r.id}` }, inner)));
    }
    return ol;
  }

  // Walks retry_of back to the first attempt, then looks for later attempts among the
  // calls to the same method and path in the hour after this one.
  async loadChain(row, gen) {
    const chain = [row];
    try {
      let cur = row;
      while (cur.retry_of && chain.length < 25) {
        cur = await getRequest(cur.retry_of);
        chain.unshift(cur);
      }
      if (gen !== this.generation) return;
      const started = Date.parse(row.started_at);
      if (!Number.isNaN(started)) {
        const filters = new URLSearchParams();
        filters.append('method', row.method);
        if (row.path) filters.set('path', row.path);
        if (row.host) filters.set('host', row.host);
        filters.set('since', row.started_at);
        filters.set('until', new Date(started + 3600 * 1000).toISOString());
        const page = await listRequests(filters, { limit: 500 });
        const byParent = new Map();
        for (const r of page.items) if (r.retry_of) byParent.set(String(r.retry_of), r);
        let last = row;
        while (byParent.has(String(last.id)) && chain.length < 50) {
          last = byParent.get(String(last.id));
          chain.push(last);
        }
      }
    } catch {
      // The chain is a convenience: what was found so far is shown.
    }
    if (gen !== this.generation || !this.chainEl) return;
    clear(this.chainEl);
    this.chainEl.appendChild(this.chainList(row, chain));
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
    const value = row[`${which}_body`];
    const size = row[`${which}_size`];
    const truncated = row[`${which}_truncated`];
    const ctype = which === 'response' ? row.content_type : headerValue(row.request_headers, 'content-type');
    const panel = h('div', { class: 'body-panel', testid: `${which}-body` });
    const meta = h('div', { class: 'body-meta' }, h('span', { class: 'body-title' }, which === 'request' ? 'Request body' : 'Response body'));
    if (ctype) meta.appendChild(h('span', { class: 'muted' }, ctype));
    meta.appendChild(h('span', { class: 'muted' }, fmt.bytes(size)));
    panel.appendChild(meta);

    if (value === null || value === undefined || value === '') {
      panel.appendChild(h('p', { class: 'muted body-empty' }, size ? `Not stored (${fmt.bytes(size)}).` : 'No body.'));
      return panel;
    }

    if (typeof value === 'object' && typeof value.base64 === 'string') {
      const bytesArr = decodeBase64(value.base64);
      if (truncated) panel.appendChild(truncNote(bytesArr.length, size));
      // Never the recorded type: a blob: URL lives in the dashboard's origin, and an
      // HTML or SVG one opened in a tab would run its script there. As octet-stream the
      // browser can only save it, under a name from a fixed list of inert extensions.
      const blob = new Blob([bytesArr], { type: 'application/octet-stream' });
      const url = URL.createObjectURL(blob);
      this.objectUrls.push(url);
      panel.appendChild(h('div', { class: 'binary-head' },
        h('span', { class: 'muted' }, `Binary body: hex of the first ${Math.min(HEX_PREVIEW, bytesArr.length)} of ${count(bytesArr.length)} stored bytes.`),
        h('a', { class: 'btn btn-small', href: url, download: `reqlog-${row.id}-${which}${extFor(ctype)}` },
          `Download (${fmt.bytes(bytesArr.length)}${truncated ? ', truncated' : ''})`)));
      panel.appendChild(h('pre', { class: 'hex' }, hexDump(bytesArr.subarray(0, HEX_PREVIEW))));
      return panel;
    }

    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (truncated) panel.appendChild(truncNote(new TextEncoder().encode(text).length, size));
    const parsed = truncated ? undefined : tryParse(text, ctype);
    const view = h('div', { class: 'body-view' });
    const paint = () => {
      clear(view);
      if (parsed !== undefined && !this.raw) view.appendChild(jsonTree(parsed, text.length < 20000));
      else view.appendChild(h('pre', { class: 'raw' }, text));
    };
    view.addEventListener('rawchange', paint);
    paint();
    panel.appendChild(view);
    return panel;
  }
}

// --- helpers -----------------------------------------------------------------------------

function section(title, content) {
  return h('section', { class: 'detail-section' }, h('h3', null, title), content);
}

function sizeText(size, truncated) {
  return truncated ? h('span', null, fmt.bytes(size), ' ', h('span', { class: 'tag warn' }, 'truncated')) : fmt.bytes(size);
}

function truncNote(stored, full) {
  return h('p', { class: 'callout callout-warn' },
    `Truncated: ${fmt.bytes(stored)} stored of ${fmt.bytes(full)} (${count(full)} bytes). The stored part is shown as text.`);
}

function count(n) {
  return fmt.count(n);
}

function headersTable(headers, testid) {
  const tbody = h('tbody');
  if (Array.isArray(headers) && headers.length) {
    for (const pair of headers) {
      const [name, value] = Array.isArray(pair) ? pair : [String(pair), ''];
      const redacted = typeof value === 'string' && (value.includes('[REDACTED]') || /^Bearer …/.test(value));
      tbody.appendChild(h('tr', null,
        h('th', { scope: 'row' }, name),
        h('td', { class: redacted ? 'redacted' : null, title: redacted ? 'Redacted before it was stored' : null }, value)));
    }
  } else {
    tbody.appendChild(h('tr', null, h('td', { class: 'muted', colspan: '2' }, 'No headers recorded.')));
  }
  return h('table', { class: 'kv headers', testid },
    h('caption', null, testid === 'request-headers' ? 'Request headers' : 'Response headers'), tbody);
}

function headerValue(headers, name) {
  if (!Array.isArray(headers)) return null;
  for (const p of headers) if (Array.isArray(p) && String(p[0]).toLowerCase() === name) return p[1];
  return null;
}

function decodeBase64(b64) {
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return new Uint8Array(0);
  }
}

function hexDump(bytesArr) {
  const lines = [];
  for (let off = 0; off < bytesArr.length; off += 16) {
    const chunk = bytesArr.subarray(off, off + 16);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n');
}

// The download's extension: one of a few that no browser or desktop opens as a page
// or a script (never .html, .svg, .xml, .js), whatever the recorded type says.
function extFor(ctype) {
  const t = (ctype || '').toLowerCase();
  if (t.includes('json')) return '.json';
  if (t.includes('pdf')) return '.pdf';
  if (t.includes('png')) return '.png';
  if (t.includes('jpeg')) return '.jpg';
  if (t.includes('zip')) return '.zip';
  if (t.startsWith('text/')) return '.txt';
  return '.bin';
}

function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

// --- copy as cURL ------------------------------------------------------------------------

const SKIP_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'expect', 'accept-encoding']);

// POSIX shell single quoting: 'it'\''s'
export function shq(s) {
  return `'${String(s).replace(/'/g, "'\\''")}'`;
}

// The recorded call as a curl command; every recorded part (method, URL, headers,
// body) is single-quoted, so a pasted command runs curl and nothing else. The key is never in a row (only its fingerprint):
// a bearer Authorization header becomes "Bearer $REQLOG_API_KEY", left for the shell to
// expand; other redacted headers are left out.
export function curlCommand(row) {
  const parts = [`curl -X ${shq(row.method)} ${shq(row.url)}`];
  let auth = false;
  let compressed = false;
  const notes = [];
  for (const pair of row.request_headers || []) {
    if (!Array.isArray(pair)) continue;
    const [name, value] = [String(pair[0]), String(pair[1] ?? '')];
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      if (/^bearer\b/i.test(value) && !auth) {
        parts.push('-H "Authorization: Bearer $REQLOG_API_KEY"');
        auth = true;
      }
      continue;
    }
    if (lower === 'accept-encoding') {
      if (/gzip|deflate|br|zstd/i.test(value)) compressed = true;
      continue;
    }
    if (SKIP_HEADERS.has(lower)) continue;
    if (value.includes('[REDACTED]') || /^Bearer …/.test(value)) continue;
    parts.push(`-H ${shq(`${name}: ${value}`)}`);
  }
  if (!auth && row.key) parts.push('-H "Authorization: Bearer $REQLOG_API_KEY"');
  if (compressed) parts.push('--compressed');
  const body = row.request_body;
  if (typeof body === 'string' && body !== '') {
    parts.push(`--data-raw ${shq(body)}`);
    if (row.request_truncated) notes.push(`# note: the stored request body was truncated (${row.request_size} bytes in full)`);
  } else if (body && typeof body === 'object') {
    notes.push('# note: the request body was binary and is not included');
  }
  return parts.join(' \\\n  ') + (notes.length ? `\n${notes.join('\n')}` : '');
}

// "Sends GET https://x/y with key …abcd#3f2a9c1e." or "… with no Authorization. Why."
function replaySentence(plan) {
  const what = `Sends ${plan.method} ${plan.url}`;
  if (plan.sends_key) return `${what} with key ${plan.key}.`;
  return `${what} with no Authorization.${plan.why ? ` ${plan.why}` : ''}`;
}
