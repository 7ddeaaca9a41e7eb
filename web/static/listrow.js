// listrow.js: one recorded call as a row of the list: time, method, path (a link to the
// call) with its query, retry and transport error notes and the API's request id,
// status, duration, key, origin
// (shown by list.js when the list holds several), size.

import { h } from './dom.js';
import * as fmt from './format.js';

// ROW (the row model, without bodies) as a <tr>; selectedId and openId mark it, picker
// (pick.js) checks its compare box.
export function rowElement(row, { selectedId, openId, picker }) {
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
    'aria-selected': String(String(row.id) === String(selectedId)),
  },
  h('td', { class: 'c-pick' }, pickBox(row, picker)),
  h('td', { class: 'c-time', title: fmt.utcTitle(row.started_at) }, fmt.shortTime(row.started_at)),
  h('td', { class: 'c-method' }, h('span', { class: 'method' }, row.method)),
  h('td', { class: 'c-path' },
    h('a', { href: `#/requests/${row.id}`, title: row.url, class: 'path-link' },
      h('span', { class: 'path' }, row.path || row.url),
      query ? h('span', { class: 'query' }, query) : null),
    row.attempt > 1 ? h('span', { class: 'tag retry', title: `Attempt ${row.attempt}, retry of #${row.retry_of}` }, `retry ${row.attempt}`) : null,
    row.error ? h('span', { class: 'row-error' }, row.error) : null,
    row.request_id ? h('span', { class: 'row-reqid', testid: 'row-request-id', title: 'The API\'s request id' }, row.request_id) : null,
    row.pinned ? h('span', { class: 'tag pin', testid: 'row-pinned', title: 'Pinned: prune keeps it' }, 'pinned') : null,
    (row.tags || []).map((t) => h('span', { class: 'tag row-tag', testid: 'row-tag' }, t)),
    row.note ? h('span', { class: 'tag row-note', testid: 'row-note', title: row.note }, 'note') : null),
  h('td', { class: 'c-status' },
    h('span', { class: `badge ${sc}`, title: row.error || fmt.reason(row.status) }, fmt.statusText(row.status))),
  h('td', { class: 'c-dur num' }, fmt.duration(row.duration_ms)),
  h('td', { class: 'c-key', title: row.key || 'no key' }, row.key || '—'),
  h('td', { class: 'c-origin', testid: 'row-origin', title: `Recorded by ${row.origin || '?'}` }, row.origin || '—'),
  h('td', { class: 'c-size num', title: `request ${fmt.bytes(row.request_size)}, response ${fmt.bytes(row.response_size)}` },
    fmt.bytes(row.response_size)));
  if (String(row.id) === String(openId)) tr.classList.add('open');
  return tr;
}

function pickBox(row, picker) {
  const box = h('input', { type: 'checkbox', testid: 'compare-pick', title: 'Pick to compare', 'aria-label': `Pick call #${row.id} to compare` });
  box.checked = Boolean(picker && picker.has(row.id));
  return box;
}
