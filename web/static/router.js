// router.js: the page's place lives in the URL hash, so that links, reloads and
// back/forward all work:
//   #/?FILTERS        the list (the same parameter names as the API)
//   #/requests/ID     one call (#/requests/ID?FILTERS: with the list's filter beside it)
//   #/compare/A/B     two calls compared (B may be "previous"), ?ignore=&keep= paths
//   #/problems?FILTERS  the failing calls of FILTERS grouped
//   #/mock?FILTERS      what `reqlog mock` would serve for FILTERS
// The router reads the hash on every change (once per distinct hash) and calls onList,
// onDetail, onCompare, onProblems or onMock; it remembers the last list hash, where closing a
// call goes back to.

// "#/requests/ID" -> {view: 'detail', id}; anything else -> {view: 'list', params}.
export function parseHash(hash) {
  const frag = hash.replace(/^#/, '');
  const m = /^\/?requests\/([^/?#]+)\/?(?:\?(.*))?$/.exec(frag);
  if (m) {
    let id = m[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep it as written; the server answers 400 for a bad id
    }
    // the list's filter rides along (#/requests/ID?FILTERS), so a reload keeps it
    return { view: 'detail', id, params: new URLSearchParams(m[2] || '') };
  }
  const qi = frag.indexOf('?');
  if (/^\/?problems\/?(?:\?|$)/.test(frag)) {
    return { view: 'problems', params: new URLSearchParams(qi >= 0 ? frag.slice(qi + 1) : '') };
  }
  if (/^\/?mock\/?(?:\?|$)/.test(frag)) {
    return { view: 'mock', params: new URLSearchParams(qi >= 0 ? frag.slice(qi + 1) : '') };
  }
  const c = /^\/?compare\/([^/?#]+)\/([^/?#]+)\/?(?:\?|$)/.exec(frag);
  if (c) {
    const dec = (x) => {
      try {
        return decodeURIComponent(x);
      } catch {
        return x;
      }
    };
    return { view: 'compare', a: dec(c[1]), b: dec(c[2]), params: new URLSearchParams(qi >= 0 ? frag.slice(qi + 1) : '') };
  }
  return { view: 'list', params: new URLSearchParams(qi >= 0 ? frag.slice(qi + 1) : '') };
}

// The list's hash for PARAMS (URLSearchParams): "#/" when there are none.
export function listHash(params) {
  return params.toString() ? `#/?${params}` : '#/';
}

// "#/requests/ID", with the list's filter PARAMS (URLSearchParams, may be empty or absent).
export const detailHash = (id, params) => {
  const q = params ? params.toString() : '';
  return `#/requests/${id}${q ? `?${q}` : ''}`;
};

export class Router {
  // onList(URLSearchParams) and onDetail(id) are called for each new hash.
  constructor({ onList, onDetail, onCompare, onProblems, onMock }) {
    this.onProblems = onProblems;
    this.onMock = onMock;
    this.onList = onList;
    this.onDetail = onDetail;
    this.onCompare = onCompare;
    this.last = null;
    this.listHash = '#/';
  }

  // Follows the hash from now on, starting with the current one.
  start() {
    window.addEventListener('hashchange', () => this.route());
    window.addEventListener('popstate', () => this.route());
    this.route();
  }

  get current() {
    return location.hash || '#/';
  }

  go(hash) {
    location.hash = hash;
  }

  backToList() {
    location.hash = this.listHash;
  }

  // Puts HASH in the address bar in place of the current one, routing nothing.
  replace(hash) {
    history.replaceState(null, '', hash);
    this.last = location.hash;
  }

  route() {
    if (location.hash === this.last) return;
    this.last = location.hash;
    const r = parseHash(location.hash);
    if (r.view === 'detail') {
      if (r.params.toString()) this.listHash = listHash(r.params);
      this.onDetail(r.id, r.params);
      return;
    }
    if (r.view === 'compare') {
      this.onCompare(r.a, r.b, r.params);
      return;
    }
    if (r.view === 'problems') {
      this.onProblems(r.params);
      return;
    }
    if (r.view === 'mock') {
      this.onMock(r.params);
      return;
    }
    this.listHash = this.current;
    this.onList(r.params);
  }
}
