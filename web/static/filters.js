// filters.js: the filter bar. The URL hash (#/?FILTERS) is the source of truth: the bar
// is written from it on every route change and read back into it on apply.

import { $ } from './dom.js';
import { request } from './api.js';

// The filters' names in the library's order, from its one list (GET /api/filters; the
// page needs the server anyway, so app.js starts once they are here). status and method
// have controls of their own; every other filter is a text input, filter-NAME.
export const FILTER_NAMES = (await request('/api/filters')).filters.map((f) => f.name);
export const CLASSES = ['2xx', '3xx', '4xx', '5xx', 'error'];
export const RANGES = ['15m', '1h', '24h', '7d'];
const TEXT_FIELDS = FILTER_NAMES.filter((n) => n !== 'status' && n !== 'method');

// URLSearchParams -> filter state
export function fromParams(params) {
  const st = { classes: new Set(), codes: [], methods: [], extra: [] };
  for (const name of TEXT_FIELDS) st[name] = '';
  for (const [k, v] of params) {
    if (k === 'status') {
      for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
        const lower = part.toLowerCase();
        if (CLASSES.includes(lower)) st.classes.add(lower);
        else st.codes.push(part);
      }
    } else if (k === 'method') {
      for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) st.methods.push(part.toUpperCase());
    } else if (TEXT_FIELDS.includes(k)) {
      st[k] = v;
    } else {
      st.extra.push([k, v]); // unknown: passed on, so the server names it in its 400
    }
  }
  return st;
}

// filter state -> URLSearchParams in a stable order (empty filters left out)
export function toParams(st) {
  const p = new URLSearchParams();
  for (const c of CLASSES) if (st.classes.has(c)) p.append('status', c);
  if (st.codes.length) p.append('status', st.codes.join(','));
  for (const m of st.methods) p.append('method', m);
  for (const name of TEXT_FIELDS) {
    const v = (st[name] || '').trim();
    if (v) p.set(name, v);
  }
  for (const [k, v] of st.extra) p.append(k, v);
  return p;
}

export class FilterBar {
  // form: the <form> holding the inputs; onApply(URLSearchParams) is called on every apply.
  constructor(form, onApply) {
    this.form = form;
    this.onApply = onApply;
    this.extra = [];
    this.input = {};
    for (const name of TEXT_FIELDS) this.input[name] = $(`[data-testid="filter-${name.replace('_', '-')}"]`, form);
    this.codes = $('[data-testid="filter-status"]', form);
    this.method = $('[data-testid="filter-method"]', form);
    this.chips = [...form.querySelectorAll('[data-testid="filter-status-class"]')];
    this.ranges = [...form.querySelectorAll('[data-testid="filter-range"]')];

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.apply();
    });
    for (const chip of this.chips) {
      chip.addEventListener('click', () => {
        chip.setAttribute('aria-pressed', chip.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
        this.apply();
      });
    }
    for (const btn of this.ranges) {
      btn.addEventListener('click', () => {
        const v = btn.dataset.value;
        this.input.since.value = v === 'all' ? '' : v;
        this.input.until.value = '';
        this.apply();
      });
    }
    this.method.addEventListener('change', () => this.apply());
    this.input.pinned.addEventListener('change', () => this.apply());
    $('[data-testid="filter-clear"]', form).addEventListener('click', () => {
      this.write(fromParams(new URLSearchParams()));
      this.apply();
    });
    for (const el of form.querySelectorAll('input')) {
      el.addEventListener('input', () => el.removeAttribute('aria-invalid'));
    }
    const more = $('#filters-more', form);
    more.addEventListener('click', () => {
      const open = !form.classList.contains('show-more');
      form.classList.toggle('show-more', open);
      more.setAttribute('aria-expanded', String(open));
      more.textContent = open ? 'Fewer filters' : 'More filters';
    });
  }

  read() {
    const st = { classes: new Set(), codes: [], methods: [], extra: this.extra };
    for (const chip of this.chips) if (chip.getAttribute('aria-pressed') === 'true') st.classes.add(chip.dataset.value);
    st.codes = this.codes.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
    st.methods = this.method.value ? this.method.value.split(',') : [];
    for (const name of TEXT_FIELDS) st[name] = this.input[name].value.trim();
    return st;
  }

  write(st) {
    this.extra = st.extra;
    for (const chip of this.chips) chip.setAttribute('aria-pressed', st.classes.has(chip.dataset.value) ? 'true' : 'false');
    this.codes.value = st.codes.join(',');
    const mv = st.methods.join(',');
    if (mv && ![...this.method.options].some((o) => o.value === mv)) {
      const opt = document.createElement('option');
      opt.value = mv;
      opt.textContent = mv;
      this.method.appendChild(opt);
    }
    this.method.value = mv;
    for (const name of TEXT_FIELDS) {
      const el = this.input[name], v = st[name] || '';
      // a select (pinned) shows a value it has no option for as given, for the 400 to name
      if (el.tagName === 'SELECT' && v && ![...el.options].some((o) => o.value === v)) {
        el.appendChild(Object.assign(document.createElement('option'), { value: v, textContent: v }));
      }
      el.value = v;
    }
    const preset = !st.until && (st.since === '' ? 'all' : RANGES.includes(st.since) ? st.since : null);
    for (const btn of this.ranges) btn.setAttribute('aria-pressed', btn.dataset.value === preset ? 'true' : 'false');
    for (const el of this.form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const secondary = st.codes.length || st.methods.length || TEXT_FIELDS.some((n) => n !== 'q' && st[n]);
    this.form.classList.toggle('has-more-values', Boolean(secondary));
  }

  apply() {
    this.onApply(toParams(this.read()));
  }

  // Marks the inputs of the parameters a 400 named.
  markInvalid(errors) {
    if (!errors) return;
    for (const name of Object.keys(errors)) {
      let el = null;
      if (name === 'status') el = this.codes;
      else if (name === 'method') el = this.method;
      else if (this.input[name]) el = this.input[name];
      if (el) el.setAttribute('aria-invalid', 'true');
    }
  }

  focusSearch() {
    this.input.q.focus();
    this.input.q.select();
  }
}
