// pick.js: choosing two calls of the list to compare: a checkbox on each row (listrow.js
// draws it checked for the ids in `picked`), a bar that says what is chosen and opens
// the comparison (#/compare/A/B, the older call as A). A third pick drops the first.

import { h, clear } from './dom.js';
import { compareHash } from './compare.js';

export class Picker {
  constructor(bar, { tbody, navigate }) {
    this.bar = bar;
    this.tbody = tbody;
    this.navigate = navigate;
    this.picked = []; // ids as strings, in the order picked
    tbody.addEventListener('change', (e) => {
      const box = e.target.closest('input[data-testid="compare-pick"]');
      if (!box) return;
      const tr = box.closest('tr[data-id]');
      if (tr) this.toggle(tr.dataset.id, box.checked);
    });
    this.draw();
  }

  has(id) {
    return this.picked.includes(String(id));
  }

  toggle(id, on) {
    id = String(id);
    this.picked = this.picked.filter((p) => p !== id);
    if (on) this.picked.push(id);
    if (this.picked.length > 2) this.picked.shift();
    for (const box of this.tbody.querySelectorAll('input[data-testid="compare-pick"]')) {
      box.checked = this.has(box.closest('tr').dataset.id);
    }
    this.draw();
  }

  clear() {
    this.picked = [];
    this.toggle('', false);
  }

  draw() {
    clear(this.bar);
    this.bar.hidden = this.picked.length === 0;
    if (!this.picked.length) return;
    const [a, b] = [...this.picked].sort((x, y) => Number(x) - Number(y));
    const open = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'compare-open', disabled: this.picked.length < 2 }, 'Compare');
    open.addEventListener('click', () => this.navigate(compareHash(a, b)));
    const reset = h('button', { type: 'button', class: 'btn btn-small', testid: 'compare-clear' }, 'Clear');
    reset.addEventListener('click', () => this.clear());
    this.bar.append(
      h('span', null, this.picked.length < 2 ? `#${a} picked: pick one more call to compare` : `Compare #${a} with #${b}`),
      open, reset);
  }
}
