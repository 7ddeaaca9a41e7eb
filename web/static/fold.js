// fold.js: the top bar's Fold button: folds the filter bar and the stats strip away (a
// laptop screen then shows the list), and brings them back; the choice is kept for the
// tab's session (sessionStorage), so a reload keeps it.

const KEY = 'reqlog.folded';

// button: the toggle; onChange(): after each fold or unfold (the list may reveal its row).
export function bindFold(button, onChange = () => {}) {
  const set = (folded) => {
    document.body.classList.toggle('folded', folded);
    button.setAttribute('aria-expanded', String(!folded));
    button.textContent = folded ? 'Unfold' : 'Fold';
    try {
      sessionStorage.setItem(KEY, folded ? '1' : '0');
    } catch {
      // storage may be off
    }
    onChange();
  };
  button.addEventListener('click', () => set(!document.body.classList.contains('folded')));
  let folded = false;
  try {
    folded = sessionStorage.getItem(KEY) === '1';
  } catch {
    folded = false;
  }
  if (folded) set(true);
}
