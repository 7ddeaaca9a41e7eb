// snippet.js: "Copy as": the call as code that makes it again, in the language picked
// (cURL, Python requests, JavaScript fetch, PHP curl, HTTPie, Go). The code is the
// library's (GET /api/requests/ID/snippet?lang=L, the same text `reqlog snippet` prints):
// the page writes none itself. The key is never in it: it reads $REQLOG_API_KEY.

import { h } from './dom.js';
import { getSnippet } from './api.js';

const LANGS = [
  ['curl', 'cURL'], ['python', 'Python'], ['node', 'JavaScript'], ['php', 'PHP'],
  ['httpie', 'HTTPie'], ['go', 'Go'],
];

// The language select, the button, its note and the <pre> the code is shown in (hidden
// until the click; selected for a manual copy when the clipboard cannot be used).
export function snippetControls(row, { onError }) {
  const text = h('pre', { class: 'curl-text', testid: 'curl-text', tabindex: '0', hidden: true });
  const state = h('span', { class: 'action-note', 'aria-live': 'polite' });
  const lang = h('select', { class: 'snippet-lang', testid: 'snippet-lang', 'aria-label': 'Language of the copied code' },
    LANGS.map(([v, label]) => h('option', { value: v }, label)));
  const copy = h('button', { type: 'button', class: 'btn', testid: 'copy-curl', title: 'The key is left as $REQLOG_API_KEY' }, 'Copy as cURL');
  lang.addEventListener('change', () => {
    copy.textContent = `Copy as ${LANGS.find(([v]) => v === lang.value)[1]}`;
    text.hidden = true;
    state.textContent = '';
  });
  copy.addEventListener('click', async () => {
    copy.disabled = true;
    let code;
    try {
      code = (await getSnippet(row.id, lang.value)).code;
    } catch (err) {
      onError(err);
      copy.disabled = false;
      return;
    }
    copy.disabled = false;
    text.textContent = code;
    text.dataset.lang = lang.value;
    text.hidden = false;
    let copied = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(code);
        copied = true;
      }
    } catch {
      copied = false;
    }
    state.textContent = copied ? 'Copied to the clipboard.' : 'Select the code below to copy it.';
    if (!copied) selectText(text);
  });
  return { button: h('span', { class: 'snippet-pick' }, lang, copy), note: state, text };
}

function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}
