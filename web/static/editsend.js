// editsend.js: "Edit and send": the call's method, URL, headers and body made editable,
// sent against its own host or a base URL given for this one replay (staging, a local
// server). The server plans it first (POST …/replay with dry_run: which key goes, by its
// fingerprint, or why none) and the page says so; only a confirmed send goes. The key
// goes only to the configured API's host or the base URL given here (the library
// decides, never the page); the new call names this one (replay_of).

import { h } from './dom.js';
import { replayEdited } from './api.js';
import { isRedacted } from './format.js';
import { sendReplay } from './replay.js';

// Headers the client sets itself or the recorder adds: not offered for editing.
const OWN = new Set(['host', 'content-length', 'authorization', 'connection', 'transfer-encoding', 'accept-encoding', 'expect']);

// Returns {button, box}; onError(err), onReplayed(newRow), navigate(hash) as DetailView's.
export function editSendControls(row, { onError, onReplayed, navigate }) {
  const method = h('input', { type: 'text', class: 'edit-method mono', testid: 'edit-method', 'aria-label': 'Method', autocomplete: 'off', spellcheck: 'false' });
  method.value = row.method || 'GET';
  const url = h('input', { type: 'text', class: 'edit-url mono', testid: 'edit-url', 'aria-label': 'URL', autocomplete: 'off', spellcheck: 'false' });
  url.value = row.url || '';
  const base = h('input', { type: 'text', class: 'edit-base mono', testid: 'edit-base-url', 'aria-label': 'Base URL for this replay', placeholder: 'base URL for this replay (optional): the key goes to its host', autocomplete: 'off', spellcheck: 'false' });
  const headers = h('textarea', { class: 'edit-headers mono', testid: 'edit-headers', rows: '4', 'aria-label': 'Headers, one "Name: value" a line', spellcheck: 'false' });
  headers.value = (row.request_headers || [])
    .filter((p) => Array.isArray(p) && !OWN.has(String(p[0]).toLowerCase()) && !isRedacted(String(p[1] ?? '')))
    .map((p) => `${p[0]}: ${p[1] ?? ''}`).join('\n');
  const body = h('textarea', { class: 'edit-body mono', testid: 'edit-body', rows: '6', 'aria-label': 'Body', spellcheck: 'false' });
  body.value = typeof row.request_body === 'string' ? row.request_body : '';
  const said = h('p', { class: 'replay-text', testid: 'edit-plan', hidden: true });
  const review = h('button', { type: 'submit', class: 'btn', testid: 'edit-review' }, 'Review');
  const send = h('button', { type: 'button', class: 'btn btn-primary', testid: 'edit-send', hidden: true }, 'Send');
  const cancel = h('button', { type: 'button', class: 'btn', testid: 'edit-cancel' }, 'Cancel');
  const form = h('form', { class: 'edit-send', testid: 'edit-form', hidden: true, 'aria-label': 'Edit and send' },
    h('div', { class: 'edit-line' }, method, url),
    base,
    h('label', { class: 'field-label' }, 'Headers (Name: value, one a line; the key is added by the server)'), headers,
    h('label', { class: 'field-label' }, 'Body'), body,
    said,
    h('div', { class: 'detail-actions' }, review, send, cancel));
  const open = h('button', { type: 'button', class: 'btn', testid: 'edit-open', title: 'Change the method, URL, headers or body, then send it as a new call' }, 'Edit and send');

  // The edit as the API takes it (web/API.md: POST /api/requests/{id}/replay).
  const edit = () => {
    const e = { method: method.value.trim(), url: url.value.trim(), body: body.value === '' ? null : body.value };
    e.headers = headers.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf(':');
      return i > 0 ? [l.slice(0, i).trim(), l.slice(i + 1).trim()] : [l, ''];
    });
    if (base.value.trim()) e.base_url = base.value.trim();
    return e;
  };
  const unreview = () => {
    said.hidden = true;
    send.hidden = true;
  };
  for (const el of [method, url, base, headers, body]) el.addEventListener('input', unreview);
  open.addEventListener('click', () => {
    form.hidden = !form.hidden;
    if (!form.hidden) url.focus();
  });
  cancel.addEventListener('click', () => {
    form.hidden = true;
    unreview();
    open.focus();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    review.disabled = true;
    try {
      const plan = await replayEdited(row.id, { ...edit(), dry_run: true });
      said.textContent = plan.sends_key
        ? `Sends ${plan.method} ${plan.url} with key ${plan.key}.`
        : `Sends ${plan.method} ${plan.url} with no Authorization.${plan.why ? ` ${plan.why}` : ''}`;
      said.hidden = false;
      send.hidden = false;
      send.focus();
    } catch (err) {
      onError(err);
    } finally {
      review.disabled = false;
    }
  });
  send.addEventListener('click', async () => {
    send.disabled = true;
    await sendReplay(() => replayEdited(row.id, edit()), { onError, onReplayed, navigate });
    send.disabled = false;
  });
  return { button: open, box: form };
}
