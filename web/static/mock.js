// mock.js: what `reqlog mock` would serve for the current filters (#/mock?FILTERS, from
// GET /api/mock: the library's reqlog_mock_load, as the CLI loads it): the counts, the
// distinct requests it answers (each row links to the call that answers), and the
// `reqlog mock` command line for these filters with a copy button. Recorded values
// (paths, templates) are text nodes only.

import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { query } from './api.js';
import { Pane } from './pane.js';
import { detailHash } from './router.js';

export const mockHash = (params) => {
  const q = new URLSearchParams(params).toString();
  return q ? `#/mock?${q}` : '#/mock';
};

export class MockView extends Pane {
  show(params) {
    this.params = new URLSearchParams(params);
    return this.load(`/api/mock?${query(this.params)}`, {
      head: () => this.head(null),
      loading: 'Loading what the mock would serve…',
      failed: 'The mock could not be loaded.',
      render: (m) => this.render(m),
    });
  }

  head(m) {
    const title = m
      ? h('span', { testid: 'mock-summary', data: { recorded: m.recorded, requests: m.requests } },
        `Mock: ${m.requests} distinct request${m.requests === 1 ? '' : 's'} from ${m.recorded} recorded call${m.recorded === 1 ? '' : 's'}`)
      : 'Mock';
    return this.headRow(title, 'mock-close', 'Close the mock');
  }

  command(m) {
    const code = h('pre', { class: 'mono mock-command', testid: 'mock-command' }, m.command);
    const note = h('span', { class: 'muted', testid: 'mock-copy-note', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', class: 'btn', testid: 'mock-copy', title: 'Copy the command line' }, 'Copy command');
    copy.addEventListener('click', async () => {
      let copied = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(m.command);
          copied = true;
        }
      } catch {
        copied = false;
      }
      note.textContent = copied ? ' Copied to the clipboard.' : ' Select the command to copy it.';
      if (!copied) {
        const range = document.createRange();
        range.selectNodeContents(code);
        const s = window.getSelection();
        s.removeAllRanges();
        s.addRange(range);
      }
    });
    return h('div', { class: 'mock-cmd' },
      h('p', { class: 'muted' }, 'Serve these calls as a stand-in for the API (--listen HOST:PORT to pick the address):'),
      code, h('p', null, copy, note));
  }

  render(m) {
    clear(this.el);
    this.el.appendChild(this.head(m));
    this.el.appendChild(this.command(m));
    if (!m.calls.length) {
      this.el.appendChild(h('p', { class: 'muted', testid: 'mock-none' }, 'No recorded call with a response matches these filters.'));
      return;
    }
    const tbody = h('tbody');
    for (const c of m.calls) tbody.appendChild(this.row(c));
    this.el.appendChild(h('table', { class: 'kv mock-table' },
      h('thead', null, h('tr', null, ...['Method', 'Path', 'Template', 'Status', 'Call'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody));
    if (m.more > 0) {
      this.el.appendChild(h('p', { class: 'muted', testid: 'mock-more', data: { more: m.more } },
        `and ${m.more} more; narrow the filters to see them.`));
    }
  }

  row(c) {
    const href = detailHash(c.id, this.params);
    return h('tr', { testid: 'mock-row', data: { id: c.id, method: c.method, path: c.path, template: c.template, status: c.status } },
      h('td', null, h('span', { class: 'method' }, c.method)),
      h('th', { scope: 'row', class: 'mono mock-path' }, c.path),
      h('td', { class: 'mono mock-path' }, c.template),
      h('td', null, h('span', { class: `badge ${fmt.statusClass(c.status)}` }, String(c.status))),
      h('td', { class: 'num' }, h('a', { href, testid: 'mock-call', title: 'The call that answers' }, `#${c.id}`)));
  }
}
