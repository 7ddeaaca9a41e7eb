// app.js: the reqlog dashboard's wiring. Each piece is a module of one job: the router
// (router.js: #/?FILTERS is the list, #/requests/ID one call), the filter bar
// (filters.js), the list and its live tail (list.js, live.js), the call's detail
// (detail.js), the stats strip (stats_panel.js, stats.js), the export links
// (exports.js), the error banner (banner.js) and the keyboard (keys.js); every request
// goes through api.js. This file creates them, connects their callbacks and keeps the
// one state they share: the filters the list was last loaded for. No framework, no
// build step; see web/API.md.

import { $ } from './dom.js';
import { ErrorBanner } from './banner.js';
import { Router, listHash, detailHash } from './router.js';
import { FilterBar, fromParams, toParams } from './filters.js';
import { CallList } from './list.js';
import { DetailView } from './detail.js';
import { CompareView } from './compare.js';
import { Picker } from './pick.js';
import { ProblemsView, problemsHash } from './problems.js';
import { MockView, mockHash } from './mock.js';
import { StatsPanel } from './stats_panel.js';
import { ExportLinks } from './exports.js';
import { bindLiveToggle } from './live.js';
import { bindKeys } from './keys.js';
import { bindFold } from './fold.js';

const state = {
  listKey: null,          // the filter query string the list was last loaded for
  filters: new URLSearchParams(),
};

const showError = (err) => banner.show(err);

const banner = new ErrorBanner($('#error-banner'), {
  onInvalid: (errors) => filterBar.markInvalid(errors),
});

const router = new Router({ onList: showList, onDetail: showDetail, onCompare: showCompare, onProblems: showProblems, onMock: showMock });

const filterBar = new FilterBar($('#filters'), (params) => {
  const hash = listHash(params);
  if (router.current === hash && !detail.isOpen) {
    reloadList(params); // same filters: apply means refresh
  } else {
    router.go(hash);
  }
});

const list = new CallList({
  pane: $('#list-pane'),
  tbody: $('#rows'),
  loadOlder: $('#load-older'),
  pill: $('#new-pill'),
  note: $('#list-note'),
  liveToggle: $('#live'),
  onOpen: (id) => router.go(detailHash(id, state.filters)),
  onError: showError,
  onLoaded: (n) => stats.updateSummary(n),
  onLiveRows: (rows) => stats.liveRows(rows),
});

const detail = new DetailView($('#detail'), {
  onClose: closeDetail,
  onError: showError,
  navigate: (hash) => router.go(hash),
  onReplayed: () => {
    // a replay is a new row: show it in the list even when the live tail is off
    if (!list.live) list.refreshNewer();
    stats.schedule();
  },
  onNotesSaved: (row) => list.updateRow(row),
});

const compare = new CompareView($('#compare'), {
  onClose: closeDetail,
  onError: showError,
  navigate: (hash) => router.go(hash),
});

const problems = new ProblemsView($('#problems'), {
  onClose: closeDetail,
  onError: showError,
  navigate: (hash) => router.go(hash),
});

const mock = new MockView($('#mock'), {
  onClose: closeDetail,
  onError: showError,
  navigate: (hash) => router.go(hash),
});

// two calls of the list picked for "compare"; listrow.js asks it which are
list.picker = new Picker($('#compare-bar'), { tbody: $('#rows'), navigate: (hash) => router.go(hash) });

const stats = new StatsPanel($('[data-testid="stats"]'), {
  list,
  summary: $('#summary'),
  more: $('#stats-more'),
  onError: showError,
  onStatus: showOnlyStatus,
});

const exportLinks = new ExportLinks({ onError: showError });

// A status code clicked in the stats: the list of that code (or of transport errors),
// the other filters kept.
function showOnlyStatus(code) {
  const f = fromParams(state.filters);
  f.classes = new Set();
  f.codes = [];
  if (code === 'error') f.classes.add('error');
  else f.codes = [code];
  router.go(`#/?${toParams(f)}`);
}

function reloadList(params) {
  banner.hide();
  state.filters = new URLSearchParams(params);
  state.listKey = state.filters.toString();
  filterBar.write(fromParams(state.filters));
  exportLinks.update(state.filters);
  $('#problems-link').setAttribute('href', problemsHash(state.filters));
  $('#mock-link').setAttribute('href', mockHash(state.filters));
  list.load(state.filters).then(() => list.markOpen(detail.id));
  stats.load(state.filters, true);
}

// PARAMS: the list's filter the URL carries beside the call (#/requests/ID?FILTERS).
function showDetail(id, params = new URLSearchParams()) {
  if (params.toString() && params.toString() !== state.listKey) reloadList(params);
  else if (state.listKey === null) reloadList(new URLSearchParams());
  else banner.hide();
  if (compare.isOpen) compare.hide();
  if (problems.isOpen) problems.hide();
  if (mock.isOpen) mock.hide();
  // a link without the filter (a replay, the retry chain): the URL gets it back
  if (!params.toString() && state.listKey) router.replace(detailHash(id, state.filters));
  document.title = `reqlog — call #${id}`;
  list.markOpen(id);
  detail.show(id);
}

// A view of FILTERS (problems, mock) beside the list of their calls.
function showBeside(pane, title, params) {
  if (params.toString() !== state.listKey) reloadList(params);
  else banner.hide();
  for (const other of [detail, compare, problems, mock]) {
    if (other !== pane && other.isOpen) other.hide();
  }
  document.title = title;
  list.markOpen(null);
  pane.show(params);
}

// The failing calls of FILTERS grouped.
function showProblems(params) {
  showBeside(problems, 'reqlog — problems', params);
}

// What `reqlog mock` would serve for FILTERS.
function showMock(params) {
  showBeside(mock, 'reqlog — mock', params);
}

function showCompare(a, b, params) {
  if (state.listKey === null) reloadList(new URLSearchParams());
  else banner.hide();
  if (detail.isOpen) detail.hide();
  if (problems.isOpen) problems.hide();
  if (mock.isOpen) mock.hide();
  document.title = `reqlog — compare #${a}`;
  list.markOpen(null);
  compare.show(a, b, params);
}

function showList(params) {
  if (compare.isOpen) compare.hide();
  if (problems.isOpen) problems.hide();
  if (mock.isOpen) mock.hide();
  if (detail.isOpen) {
    detail.hide();
    list.markOpen(null);
  }
  document.body.classList.remove('detail-open');
  document.title = 'reqlog';
  if (params.toString() !== state.listKey) reloadList(params);
}

function closeDetail() {
  if (!detail.isOpen && !compare.isOpen && !problems.isOpen && !mock.isOpen) return;
  router.backToList();
}

// Esc closes the detail or the comparison, whichever is open
const openPane = { get isOpen() { return detail.isOpen || compare.isOpen || problems.isOpen || mock.isOpen; } };
bindKeys({ detail: openPane, closeDetail, banner, filterBar, list });
bindLiveToggle($('#live'), list);
bindFold($('#fold'), () => list.revealOpen());
router.start();
