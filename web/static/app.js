// app.js: the reqlog dashboard. Routing lives in the URL hash:
//   #/?FILTERS        the list (same parameter names as the API)
//   #/requests/ID     one call
// Back/forward restore both. No framework, no build step; see web/API.md.

import { $, clear, h } from './dom.js';
import { getStats, exportUrl, ApiError } from './api.js';
import { FilterBar, fromParams, toParams } from './filters.js';
import { CallList } from './list.js';
import { DetailView } from './detail.js';
import { renderStats, clearStats } from './stats.js';
import * as fmt from './format.js';

const state = {
  listKey: null,          // the filter query string the list was last loaded for
  filters: new URLSearchParams(),
  listHash: '#/',         // where "close" goes back to
  statsTimer: null,
  statsGen: 0,
};

// --- error banner ---------------------------------------------------------------------

const banner = $('#error-banner');
function showError(err) {
  $('#banner-title').textContent = err && err.message ? err.message : String(err);
  const ul = clear($('#banner-errors'));
  if (err && err.errors) {
    for (const [param, msgs] of Object.entries(err.errors)) {
      for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
        const text = typeof m === 'string' ? m : JSON.stringify(m);
        // the server's messages usually start with the parameter's name already
        const named = text.startsWith(`${param}:`) || text.startsWith(`${param} `);
        ul.appendChild(h('li', { data: { param } },
          named ? h('code', null, param) : [h('code', null, param), ': '],
          named ? text.slice(param.length) : text));
      }
    }
    filterBar.markInvalid(err.errors);
  }
  if (err && err.status === 401) {
    ul.appendChild(h('li', null, 'This dashboard needs its token: open the login link that `reqlog serve` printed (/login?token=…).'));
  }
  banner.hidden = false;
}
function hideError() {
  banner.hidden = true;
  $('#banner-title').textContent = '';
  clear($('#banner-errors'));
}
$('#banner-close').addEventListener('click', hideError);

$('#stats-more').addEventListener('click', (e) => {
  const root = $('[data-testid="stats"]');
  const open = !root.classList.contains('show-more');
  root.classList.toggle('show-more', open);
  e.currentTarget.setAttribute('aria-expanded', String(open));
  e.currentTarget.textContent = open ? 'Fewer stats' : 'More stats';
});

// --- pieces ---------------------------------------------------------------------------

const filterBar = new FilterBar($('#filters'), (params) => {
  const hash = params.toString() ? `#/?${params}` : '#/';
  if ((location.hash || '#/') === hash && !detail.isOpen) {
    reloadList(params); // same filters: apply means refresh
  } else {
    location.hash = hash;
  }
});

const list = new CallList({
  pane: $('#list-pane'),
  tbody: $('#rows'),
  loadOlder: $('#load-older'),
  pill: $('#new-pill'),
  note: $('#list-note'),
  liveToggle: $('#live'),
  onOpen: (id) => {
    location.hash = `#/requests/${id}`;
  },
  onError: showError,
  onLoaded: (n) => updateSummary(n),
  onLiveRows: () => scheduleStats(),
});

const detail = new DetailView($('#detail'), {
  onClose: closeDetail,
  onError: showError,
  navigate: (hash) => {
    location.hash = hash;
  },
  onReplayed: () => {
    // a replay is a new row: show it in the list even when the live tail is off
    if (!list.live) list.refreshNewer();
    scheduleStats();
  },
});

$('#live').addEventListener('change', (e) => {
  list.setLive(e.target.checked);
  try {
    sessionStorage.setItem('reqlog.live', e.target.checked ? '1' : '0');
  } catch {
    // storage may be off
  }
});

let lastTotal = null;
function updateSummary(shown) {
  if (shown === null || !list.loaded) {
    $('#summary').textContent = '';
    return;
  }
  const total = lastTotal;
  $('#summary').textContent = total === null ? `${fmt.count(shown)} shown`
    : `${fmt.count(shown)} of ${fmt.count(total)} call${total === 1 ? '' : 's'}`;
}

function updateExports(filters) {
  for (const f of ['csv', 'ndjson', 'har']) $(`#export-${f}`).href = exportUrl(f, filters);
}

// HAR export: the server answers 501 until it exists, so ask first and show its message
// instead of saving an error as a file.
$('#export-har').addEventListener('click', async (e) => {
  const a = e.currentTarget;
  if (a.dataset.checked === a.href) return; // checked just now: let the download go
  e.preventDefault();
  const ctl = new AbortController();
  try {
    const res = await fetch(a.href, { signal: ctl.signal, credentials: 'same-origin' });
    if (!res.ok) {
      let body = null;
      try {
        body = JSON.parse(await res.text());
      } catch {
        body = null;
      }
      showError(new ApiError(res.status, body && body.message ? body.message : `Export failed: HTTP ${res.status}`, body && body.errors));
      return;
    }
    ctl.abort();
    a.dataset.checked = a.href;
    a.click();
    delete a.dataset.checked;
  } catch (err) {
    if (err.name !== 'AbortError') showError(err);
  }
});

// --- stats ----------------------------------------------------------------------------

async function loadStats(filters, reveal = false) {
  const gen = ++state.statsGen;
  const root = $('[data-testid="stats"]');
  root.classList.add('loading');
  try {
    const st = await getStats(filters);
    if (gen !== state.statsGen) return;
    lastTotal = st.total;
    updateSummary(list.ids.size);
    renderStats(root, st, {
      range: timeRange(filters),
      onStatus: (code) => {
        const f = fromParams(state.filters);
        f.classes = new Set();
        f.codes = [];
        if (code === 'error') f.classes.add('error');
        else f.codes = [code];
        location.hash = `#/?${toParams(f)}`;
      },
    });
    // the strip's height may have changed: keep the open call in view
    if (reveal) list.revealOpen();
  } catch (err) {
    if (gen !== state.statsGen) return;
    clearStats(root);
    lastTotal = null;
    // the list reports the same 400; show others
    if (err.status !== 400) showError(err);
  } finally {
    if (gen === state.statsGen) root.classList.remove('loading');
  }
}

// since/until of FILTERS as ms since the epoch (NaN when absent or not understood):
// relative ("15m", "24h", "7d") counts back from now, like the server does.
function timeRange(filters) {
  const now = Date.now();
  const at = (v) => {
    if (!v) return NaN;
    const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(v.trim());
    if (m) return now - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2].toLowerCase()];
    return Date.parse(v);
  };
  const from = at(filters.get('since'));
  const until = filters.get('until') ? at(filters.get('until')) : (Number.isFinite(from) ? now : NaN);
  return { from, to: until };
}

// Live rows refresh the stats at most every 3 s.
function scheduleStats() {
  if (state.statsTimer) return;
  state.statsTimer = setTimeout(() => {
    state.statsTimer = null;
    loadStats(state.filters);
  }, 3000);
}

// --- routing --------------------------------------------------------------------------

function parseHash() {
  const frag = location.hash.replace(/^#/, '');
  const m = /^\/?requests\/([^/?#]+)\/?$/.exec(frag);
  if (m) {
    let id = m[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep it as written; the server answers 400 for a bad id
    }
    return { view: 'detail', id };
  }
  const qi = frag.indexOf('?');
  return { view: 'list', params: new URLSearchParams(qi >= 0 ? frag.slice(qi + 1) : '') };
}

function reloadList(params) {
  hideError();
  state.filters = new URLSearchParams(params);
  state.listKey = state.filters.toString();
  filterBar.write(fromParams(state.filters));
  updateExports(state.filters);
  list.load(state.filters).then(() => list.markOpen(detail.id));
  loadStats(state.filters, true);
}

let lastRouted = null;
function route() {
  if (location.hash === lastRouted) return;
  lastRouted = location.hash;
  const r = parseHash();
  if (r.view === 'detail') {
    if (state.listKey === null) reloadList(new URLSearchParams());
    else hideError();
    document.title = `reqlog — call #${r.id}`;
    list.markOpen(r.id);
    detail.show(r.id);
    return;
  }
  state.listHash = location.hash || '#/';
  if (detail.isOpen) {
    detail.hide();
    list.markOpen(null);
  }
  document.title = 'reqlog';
  if (r.params.toString() !== state.listKey) reloadList(r.params);
}

function closeDetail() {
  if (!detail.isOpen) return;
  location.hash = state.listHash;
}

window.addEventListener('hashchange', route);
window.addEventListener('popstate', route);

// --- keyboard -------------------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName));
  if (e.key === 'Escape') {
    if (typing) {
      t.blur();
      return;
    }
    if (detail.isOpen) {
      e.preventDefault();
      closeDetail();
    } else if (!banner.hidden) {
      hideError();
    }
    return;
  }
  if (typing) return;
  if (e.key === '/') {
    e.preventDefault();
    filterBar.focusSearch();
  } else if (e.key === 'j' || e.key === 'k') {
    e.preventDefault();
    // the selection takes over from a button clicked before, so Enter opens the call
    if (document.activeElement instanceof HTMLElement && document.activeElement !== document.body) document.activeElement.blur();
    list.move(e.key === 'j' ? 1 : -1);
  } else if (e.key === 'Enter') {
    // Enter on a focused button or link keeps its own meaning
    if (t instanceof HTMLElement && t.closest('button, a, summary, [tabindex]:not([tabindex="-1"])')) return;
    if (list.selectedId !== null) {
      e.preventDefault();
      list.openSelected();
    }
  }
});

// --- start ----------------------------------------------------------------------------

try {
  if (sessionStorage.getItem('reqlog.live') === '1') list.setLive(true);
} catch {
  // storage may be off
}
route();
