// replay.js: the Replay button of a call and its confirmation. It first asks the server
// what it would send (GET …/replay), says it, and sends only once that is confirmed:
// whether the key goes, and which one, is never a surprise.

import { h } from './dom.js';
import { replay, replayPlan } from './api.js';

// Returns {button, box}; onError(err), onReplayed(newRow), navigate(hash) as DetailView's.
export function replayControls(row, { onError, onReplayed, navigate }) {
  const text = h('p', { class: 'replay-text', testid: 'replay-text' });
  const send = h('button', { type: 'button', class: 'btn', testid: 'replay-send' }, 'Send');
  const cancel = h('button', { type: 'button', class: 'btn', testid: 'replay-cancel' }, 'Cancel');
  const box = h('div', { class: 'replay-confirm', testid: 'replay-confirm', role: 'group', 'aria-label': 'Confirm the replay', hidden: true },
    text, h('div', { class: 'detail-actions' }, send, cancel));
  const rep = h('button', { type: 'button', class: 'btn', testid: 'replay', title: 'Send this call again through the recorder (a new row)' }, 'Replay');
  const reset = () => {
    rep.disabled = false;
    rep.textContent = 'Replay';
  };
  rep.addEventListener('click', async () => {
    rep.disabled = true;
    try {
      text.textContent = replaySentence(await replayPlan(row.id));
      box.hidden = false;
      send.focus();
    } catch (err) {
      onError(err);
      reset();
    }
  });
  cancel.addEventListener('click', () => {
    box.hidden = true;
    reset();
    rep.focus();
  });
  send.addEventListener('click', async () => {
    box.hidden = true;
    rep.textContent = 'Replaying…';
    await sendReplay(() => replay(row.id), { onError, onReplayed, navigate });
    reset();
  });
  return { button: rep, box };
}

// Runs SEND (a replay's request) and opens the new call, or says what went wrong (also
// editsend.js's Send).
export async function sendReplay(send, { onError, onReplayed, navigate }) {
  try {
    const fresh = await send();
    onReplayed(fresh);
    // a team store that has not received the call yet (202): the server says so
    if (fresh.id === undefined) onError(new Error(fresh.message));
    else navigate(`#/requests/${fresh.id}`);
  } catch (err) {
    onError(err);
  }
}

// "Sends GET https://x/y with key …abcd#3f2a9c1e." or "… with no Authorization. Why."
function replaySentence(plan) {
  const what = `Sends ${plan.method} ${plan.url}`;
  if (plan.sends_key) return `${what} with key ${plan.key}.`;
  return `${what} with no Authorization.${plan.why ? ` ${plan.why}` : ''}`;
}
