// dom.js: building elements without HTML parsing. Recorded values only ever reach the
// page through text nodes (textContent / createTextNode), never innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h('a', {class: 'x', href: '#/', testid: 'foo', data: {id: 3}}, 'text', child, ...)
// Attribute names are literals of this code; values are set with setAttribute, which
// never parses markup. 'text' sets textContent. Children: strings become text nodes,
// null/undefined/false are skipped, arrays are flattened.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') el.textContent = String(value);
      else if (name === 'testid') el.setAttribute('data-testid', value);
      else if (name === 'data') {
        for (const [k, v] of Object.entries(value)) {
          if (v !== undefined && v !== null) el.dataset[k] = String(v);
        }
      } else if (name === 'style' || name.startsWith('on')) {
        throw new Error('dom.h: inline styles and handlers are not allowed');
      } else el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}
