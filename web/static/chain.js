// chain.js: the retry chain of one call: the attempts before it (retry_of, back to the
// first) and after it, found through the API, shown as a list of links.

import { h } from './dom.js';
import * as fmt from './format.js';
import { getRequest, listRequests } from './api.js';

// CHAIN (oldest first) as a list, CURRENT marked; a sentence when there is no chain.
export function chainList(current, chain) {
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
// calls to the same method and path in the hour after this one. Returns the chain,
// oldest first: what was found so far when a request fails (the chain is a
// convenience), or null when isCurrent() says the view moved on meanwhile.
export async function findChain(row, isCurrent) {
  const chain = [row];
  try {
    await addEarlier(chain);
    if (!isCurrent()) return null;
    await addLater(row, chain);
  } catch {
    // what was found so far is shown
  }
  return chain;
}

async function addEarlier(chain) {
  let cur = chain[0];
  while (cur.retry_of && chain.length < 25) {
    cur = await getRequest(cur.retry_of);
    chain.unshift(cur);
  }
}

async function addLater(row, chain) {
  const started = Date.parse(row.started_at);
  if (Number.isNaN(started)) return;
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
