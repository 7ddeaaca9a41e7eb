// keys.js: the keyboard. j/k move the selection in the list, Enter opens it, / focuses
// the search box, Esc leaves an input, else closes the call, else the error banner.
// Keys typed into an input are left to it; keys with Ctrl, Meta or Alt to the browser.

// The pieces the keys act on: detail (isOpen), closeDetail(), banner (shown, hide()),
// filterBar (focusSearch()), list (move(delta), selectedId, openSelected()).
export function bindKeys(pieces) {
  document.addEventListener('keydown', (e) => onKey(e, pieces));
}

function isTyping(t) {
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName));
}

function onKey(e, p) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = isTyping(t);
  if (e.key === 'Escape') {
    onEscape(e, p, typing);
    return;
  }
  if (typing) return;
  if (e.key === '/') {
    e.preventDefault();
    p.filterBar.focusSearch();
  } else if (e.key === 'j' || e.key === 'k') {
    e.preventDefault();
    // the selection takes over from a button clicked before, so Enter opens the call
    if (document.activeElement instanceof HTMLElement && document.activeElement !== document.body) document.activeElement.blur();
    p.list.move(e.key === 'j' ? 1 : -1);
  } else if (e.key === 'Enter') {
    // Enter on a focused button or link keeps its own meaning
    if (t instanceof HTMLElement && t.closest('button, a, summary, [tabindex]:not([tabindex="-1"])')) return;
    if (p.list.selectedId !== null) {
      e.preventDefault();
      p.list.openSelected();
    }
  }
}

function onEscape(e, p, typing) {
  if (typing) {
    e.target.blur();
  } else if (p.detail.isOpen) {
    e.preventDefault();
    p.closeDetail();
  } else if (p.banner.shown) {
    p.banner.hide();
  }
}
