// json.js: a pretty-printed, foldable view of a parsed JSON value. Objects and arrays
// are <details> elements (fold with a click or Enter on their summary); their children
// are only built when first opened, so a large body stays quick. Every key and value is
// a text node.

import { h } from './dom.js';

const OPEN_DEPTH = 3;     // levels open at first
const OPEN_MAX = 200;     // a node with more children than this starts folded
const CHUNK = 500;        // children built per "show more"

// SMALL: the whole body is short, so every level starts open.
export function jsonTree(value, small = false) {
  const root = h('div', { class: 'json-tree' });
  root.appendChild(node(value, 0, null, true, small ? 64 : OPEN_DEPTH));
  return root;
}

function node(value, depth, key, last, openDepth) {
  const keyEl = key === null ? null : [h('span', { class: 'j-key' }, key), h('span', { class: 'j-punct' }, ': ')];
  const comma = last ? null : h('span', { class: 'j-punct' }, ',');
  if (value !== null && typeof value === 'object') {
    const isArr = Array.isArray(value);
    const entries = isArr ? value.map((v, i) => [i, v]) : Object.entries(value);
    const [open, close] = isArr ? ['[', ']'] : ['{', '}'];
    if (!entries.length) {
      return h('div', { class: 'j-line' }, keyEl, h('span', { class: 'j-punct' }, open + close), comma);
    }
    const details = h('details', { class: 'j-node' });
    const summary = h('summary', { class: 'j-line' }, keyEl,
      h('span', { class: 'j-punct' }, open),
      h('span', { class: 'j-fold', 'aria-hidden': 'true' }, `…${close}`),
      h('span', { class: 'j-count' }, isArr ? `${entries.length} item${entries.length === 1 ? '' : 's'}` : `${entries.length} key${entries.length === 1 ? '' : 's'}`),
      h('span', { class: 'j-fold-comma' }, comma ? ',' : ''));
    const body = h('div', { class: 'j-children' });
    const end = h('div', { class: 'j-line j-end' }, h('span', { class: 'j-punct' }, close), comma && comma.cloneNode(true));
    details.append(summary, body, end);
    let built = 0;
    const build = () => {
      const stop = Math.min(entries.length, built + CHUNK);
      const frag = document.createDocumentFragment();
      for (; built < stop; built++) {
        const [k, v] = entries[built];
        frag.appendChild(node(v, depth + 1, isArr ? null : JSON.stringify(k), built === entries.length - 1, openDepth));
      }
      const more = body.querySelector(':scope > .j-more');
      if (more) more.remove();
      body.appendChild(frag);
      if (built < entries.length) {
        const btn = h('button', { type: 'button', class: 'j-more' }, `show ${Math.min(CHUNK, entries.length - built)} more of ${entries.length - built}`);
        btn.addEventListener('click', build);
        body.appendChild(btn);
      }
    };
    details.addEventListener('toggle', () => {
      if (details.open && built === 0) build();
    });
    if (depth < openDepth && entries.length <= OPEN_MAX) {
      build();
      details.open = true;
    }
    return details;
  }
  let cls = 'j-null';
  let text = 'null';
  if (typeof value === 'string') {
    cls = value === '[REDACTED]' ? 'j-str j-redacted' : 'j-str';
    text = JSON.stringify(value);
  } else if (typeof value === 'number') {
    cls = 'j-num';
    text = String(value);
  } else if (typeof value === 'boolean') {
    cls = 'j-bool';
    text = String(value);
  }
  return h('div', { class: 'j-line' }, keyEl, h('span', { class: cls }, text), comma);
}

// Parses TEXT when it looks like JSON; undefined otherwise.
export function tryParse(text, contentType) {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  const looks = /json/i.test(contentType || '') || t.startsWith('{') || t.startsWith('[');
  if (!looks || !t) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}
