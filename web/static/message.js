// message.js: the request or the response part of a call: its headers as a table and
// its body as a foldable JSON tree, raw text, or a hex preview with a download for a
// binary body (never opened in the page's origin).

import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { jsonTree, tryParse } from './json.js';

const HEX_PREVIEW = 512;

// ROW's WHICH ('request' or 'response') body. isRaw(): show JSON as stored rather than
// as a tree (a 'rawchange' event on a .body-view paints it again); keepUrl(url): a
// blob: URL the caller revokes when the view goes.
export function bodyPanel(row, which, { isRaw, keepUrl }) {
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
    keepUrl(url);
    panel.appendChild(h('div', { class: 'binary-head' },
      h('span', { class: 'muted' }, `Binary body: hex of the first ${Math.min(HEX_PREVIEW, bytesArr.length)} of ${fmt.count(bytesArr.length)} stored bytes.`),
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
    if (parsed !== undefined && !isRaw()) view.appendChild(jsonTree(parsed, text.length < 20000));
    else view.appendChild(h('pre', { class: 'raw' }, text));
  };
  view.addEventListener('rawchange', paint);
  paint();
  panel.appendChild(view);
  return panel;
}

function truncNote(stored, full) {
  return h('p', { class: 'callout callout-warn' },
    `Truncated: ${fmt.bytes(stored)} stored of ${fmt.bytes(full)} (${fmt.count(full)} bytes). The stored part is shown as text.`);
}

export function headersTable(headers, testid) {
  const tbody = h('tbody');
  if (Array.isArray(headers) && headers.length) {
    for (const pair of headers) {
      const [name, value] = Array.isArray(pair) ? pair : [String(pair), ''];
      const redacted = typeof value === 'string' && fmt.isRedacted(value);
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
