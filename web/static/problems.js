// problems.js: the failing calls of the current filters grouped into problems
// (#/problems?FILTERS, from GET /api/problems: the library's reqlog_problems, as
// `reqlog problems`): busiest first, each with its count, status, endpoint template,
// the API's message (and a 422's fields), keys, last seen and a per-hour sparkline. A
// click on a group opens the list filtered to it (its method, path, status and field,
// the time filters kept). Recorded values are text nodes only.

import { h, svg, clear } from './dom.js';
import * as fmt from './format.js';
import { query } from './api.js';
import { Pane } from './pane.js';

export const problemsHash = (params) => {
  const q = new URLSearchParams(params).toString();
  return q ? `#/problems?${q}` : '#/problems';
};

// The list hash that shows group G's calls, keeping the time filters of PARAMS.
export function groupListHash(g, params) {
  const p = new URLSearchParams();
  for (const k of ['since', 'until', 'origin', 'key', 'host']) {
    const v = params.get(k);
    if (v) p.set(k, v);
  }
  for (const [k, v] of Object.entries(g.filter || {})) p.set(k, v);
  return `#/?${p}`;
}

function sparkline(hours) {
  const n = Math.max(hours.length, 1);
  const max = Math.max(1, ...hours);
  const el = svg('svg', { class: 'spark', viewBox: `0 0 ${n} 10`, preserveAspectRatio: 'none', testid: 'problem-spark', role: 'img', 'aria-label': `calls per point: ${hours.join(', ')}` });
  hours.forEach((v, i) => {
    if (!v) return;
    const hgt = Math.max(1, (v / max) * 10);
    el.appendChild(svg('rect', { x: i, y: 10 - hgt, width: 0.9, height: hgt }));
  });
  return el;
}

export class ProblemsView extends Pane {
  show(params) {
    this.params = new URLSearchParams(params);
    return this.load(`/api/problems?${query(this.params)}`, {
      head: () => this.head(null),
      loading: 'Grouping the failing calls…',
      failed: 'The problems could not be loaded.',
      render: (p) => this.render(p),
    });
  }

  head(p) {
    const title = p
      ? h('span', { testid: 'problems-summary', data: { total: p.total, groups: p.groups_total } },
        `${p.total} failing call${p.total === 1 ? '' : 's'} in ${p.groups_total} problem${p.groups_total === 1 ? '' : 's'}`)
      : 'Problems';
    return this.headRow(title, 'problems-close', 'Close problems');
  }

  render(p) {
    clear(this.el);
    this.el.appendChild(this.head(p));
    const hoursEach = p.bucket_s === 3600 ? 'an hour' : `${Math.round(p.bucket_s / 3600)} hours`;
    this.el.appendChild(h('p', { class: 'muted problems-range' },
      `${fmt.localTime(p.range.from)} to ${fmt.localTime(p.range.to)}; a bar is ${hoursEach}. Click a problem for its calls.`));
    if (!p.groups.length) {
      this.el.appendChild(h('p', { class: 'muted', testid: 'problems-none' }, 'No failing calls match these filters.'));
      return;
    }
    const tbody = h('tbody');
    for (const g of p.groups) tbody.appendChild(this.row(g));
    this.el.appendChild(h('table', { class: 'kv problems-table' },
      h('thead', null, h('tr', null, ...['Calls', 'Status', 'Endpoint', 'Message', 'Keys', 'Last', 'Per hour'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody));
    if (p.groups.length < p.groups_total) {
      this.el.appendChild(h('p', { class: 'muted' }, `The ${p.groups.length} busiest of ${p.groups_total} problems; narrow the filters for the others.`));
    }
  }

  row(g) {
    const href = groupListHash(g, this.params);
    const status = g.status === null ? 'ERR' : String(g.status);
    const tr = h('tr', {
      testid: 'problem-group',
      class: 'problem',
      tabindex: '0',
      data: { count: g.count, status: g.status === null ? 'error' : g.status, method: g.method, template: g.template, href },
      title: 'Show these calls',
    },
    h('td', { class: 'num' }, String(g.count)),
    h('td', null, h('span', { class: `badge ${fmt.statusClass(g.status)}` }, status)),
    h('th', { scope: 'row', class: 'mono problem-endpoint' }, h('span', { class: 'method' }, g.method || '?'), ' ', g.template),
    h('td', { class: 'problem-message' }, g.message || h('span', { class: 'muted' }, '(no message)'),
      g.fields ? h('span', { class: 'problem-fields' }, ` [${g.fields.join(', ')}]`) : null),
    h('td', { class: 'num', title: (g.key_names || []).join('\n') }, String(g.keys) + (g.without_key ? ' + none' : '')),
    h('td', { title: fmt.utcTitle(g.last) }, fmt.shortTime(g.last)),
    h('td', null, sparkline(g.hours || [])));
    const open = () => this.navigate(href);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        open();
      }
    });
    return tr;
  }
}
