// curl.js: "Copy as cURL": the recorded call as a curl command that runs curl and
// nothing else (every recorded part single-quoted), with the key left to the shell as
// $REQLOG_API_KEY, and the button that shows it and copies it to the clipboard.

import { h } from './dom.js';
import { isRedacted } from './format.js';

const SKIP_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'expect', 'accept-encoding']);

// POSIX shell single quoting: 'it'\''s'
export function shq(s) {
  return `'${String(s).replace(/'/g, "'\\''")}'`;
}

// The recorded call as a curl command; every recorded part (method, URL, headers,
// body) is single-quoted, so a pasted command runs curl and nothing else. The key is
// never in a row (only its fingerprint): a bearer Authorization header becomes
// "Bearer $REQLOG_API_KEY", left for the shell to expand; other redacted headers are
// left out.
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
    if (isRedacted(value)) continue;
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

// The button, its note and the <pre> the command is shown in (hidden until the click;
// selected for a manual copy when the clipboard cannot be used).
export function curlControls(row) {
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
  return { button: copy, note: copyState, text: curlText };
}

function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}
