// banner.js: the error banner. Shows an API error (an ApiError of api.js, or any Error)
// with the server's message and, for a 400, one line per parameter it named; the
// inputs of those parameters are marked through onInvalid. Hidden again by its close
// button, by the keyboard (keys.js) or when the list is reloaded.

import { $, clear, h } from './dom.js';

const LOGIN_HINT = 'This dashboard needs its token: open the login link that `reqlog serve` printed (/login?token=…).';

export class ErrorBanner {
  // el: the banner element (#error-banner); onInvalid(errors) gets the 400's "errors".
  constructor(el, { onInvalid }) {
    this.el = el;
    this.title = $('#banner-title', el);
    this.list = $('#banner-errors', el);
    this.onInvalid = onInvalid;
    $('#banner-close', el).addEventListener('click', () => this.hide());
  }

  get shown() {
    return !this.el.hidden;
  }

  show(err) {
    this.title.textContent = err && err.message ? err.message : String(err);
    clear(this.list);
    if (err && err.errors) {
      for (const [param, msgs] of Object.entries(err.errors)) {
        for (const m of Array.isArray(msgs) ? msgs : [msgs]) this.list.appendChild(paramItem(param, m));
      }
      this.onInvalid(err.errors);
    }
    if (err && err.status === 401) this.list.appendChild(h('li', null, LOGIN_HINT));
    this.el.hidden = false;
  }

  hide() {
    this.el.hidden = true;
    this.title.textContent = '';
    clear(this.list);
  }
}

// One message about PARAM; the server's messages usually start with its name already.
function paramItem(param, msg) {
  const text = typeof msg === 'string' ? msg : JSON.stringify(msg);
  const named = text.startsWith(`${param}:`) || text.startsWith(`${param} `);
  return h('li', { data: { param } },
    named ? h('code', null, param) : [h('code', null, param), ': '],
    named ? text.slice(param.length) : text);
}
