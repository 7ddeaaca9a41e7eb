// live.js: the live tail switch in the top bar. Turns the list's live tail on and off
// and remembers the choice for the tab's session (sessionStorage), so a reload keeps it.

const KEY = 'reqlog.live';

// toggle: the checkbox; list: the CallList. Restores the remembered choice.
export function bindLiveToggle(toggle, list) {
  toggle.addEventListener('change', (e) => {
    list.setLive(e.target.checked);
    try {
      sessionStorage.setItem(KEY, e.target.checked ? '1' : '0');
    } catch {
      // storage may be off
    }
  });
  try {
    if (sessionStorage.getItem(KEY) === '1') list.setLive(true);
  } catch {
    // storage may be off
  }
}
