// stats_panel.js: keeps the stats strip (drawn by stats.js) and the summary line in the
// top bar ("N of M calls") up to date for the list's filter: loads GET /api/stats on
// every new filter, again at most every 3 s while live rows come in, and only shows the
// answer of the latest request. Also the strip's "More stats" toggle.

import { getStats } from './api.js';
import { renderStats, clearStats } from './stats.js';
import * as fmt from './format.js';

const LIVE_DELAY_MS = 3000;

export class StatsPanel {
  // root: the strip; list: the CallList (its count and open row); summary: the summary
  // element; more: the toggle button; onError(err); onStatus(code) when a status
  // code of the breakdown is clicked.
  constructor(root, { list, summary, more, onError, onStatus }) {
    this.root = root;
    this.list = list;
    this.summary = summary;
    this.onError = onError;
    this.onStatus = onStatus;
    this.filters = new URLSearchParams();
    this.total = null;        // the filter's total from the last answer
    this.generation = 0;
    this.timer = null;
    more.addEventListener('click', (e) => this.toggleMore(e.currentTarget));
  }

  toggleMore(btn) {
    const open = !this.root.classList.contains('show-more');
    this.root.classList.toggle('show-more', open);
    btn.setAttribute('aria-expanded', String(open));
    btn.textContent = open ? 'Fewer stats' : 'More stats';
  }

  // Loads the stats of FILTERS; REVEAL: keep the open call in view afterwards.
  async load(filters, reveal = false) {
    const gen = ++this.generation;
    this.filters = filters;
    this.root.classList.add('loading');
    try {
      const st = await getStats(filters);
      if (gen !== this.generation) return;
      this.total = st.total;
      this.updateSummary(this.list.ids.size);
      // the chart's axis spans the range asked for, as the server resolved it
      const range = { from: Date.parse(st.range?.from), to: Date.parse(st.range?.to) };
      renderStats(this.root, st, { range, onStatus: this.onStatus });
      // the strip's height may have changed: keep the open call in view
      if (reveal) this.list.revealOpen();
    } catch (err) {
      if (gen !== this.generation) return;
      clearStats(this.root);
      this.total = null;
      // the list reports the same 400; show others
      if (err.status !== 400) this.onError(err);
    } finally {
      if (gen === this.generation) this.root.classList.remove('loading');
    }
  }

  // ROWS came in live (new calls of this filter): counted at once, in the summary and the
  // strip's total, so "N of M calls" never shows more than there are; the rest of the
  // strip follows at the next load (at most 3 s later).
  liveRows(rows) {
    if (this.total !== null) {
      this.total += rows.length;
      const el = this.root.querySelector('[data-testid="stats-total"]');
      if (el) el.textContent = fmt.count(this.total);
    }
    this.updateSummary(this.list.ids.size);
    this.schedule();
  }

  // Live rows refresh the stats at most every 3 s.
  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load(this.filters);
    }, LIVE_DELAY_MS);
  }

  // SHOWN: the rows listed, null when the list could not be loaded.
  updateSummary(shown) {
    if (shown === null || !this.list.loaded) {
      this.summary.textContent = '';
      return;
    }
    const total = this.total;
    this.summary.textContent = total === null ? `${fmt.count(shown)} shown`
      : `${fmt.count(shown)} of ${fmt.count(total)} call${total === 1 ? '' : 's'}`;
  }
}
