// notes.js: a call's notes in the detail: the pin, its tags (each a link to the calls
// with that tag, with a remove button) and its note. Every change is saved at once
// through POST /api/requests/ID/notes (the server keeps them beside the recorded row,
// never in it) and the view is drawn again from the row the server answers with.

import { h, clear } from './dom.js';
import { saveNotes } from './api.js';

// The "Notes" section's content for ROW. onSaved(row) gets the saved row; onError(err)
// a failure (also said inline).
export function notesPanel(row, { onSaved, onError }) {
  const box = h('div', { class: 'notes', testid: 'notes' });
  draw(box, row, { onSaved, onError });
  return box;
}

function draw(box, row, cb) {
  clear(box);
  const status = h('p', { class: 'notes-status muted', testid: 'notes-status', role: 'status' });
  const save = async (change, busy) => {
    busy.disabled = true;
    status.textContent = 'Saving…';
    try {
      const fresh = await saveNotes(row.id, change);
      draw(box, fresh, cb);
      const s = box.querySelector('[data-testid="notes-status"]');
      if (s) s.textContent = 'Saved.';
      cb.onSaved(fresh);
    } catch (err) {
      busy.disabled = false;
      const named = err.errors && Object.values(err.errors).flat()[0];
      status.textContent = `Not saved: ${named || err.message}`;
      cb.onError(err);
    }
  };

  const pinned = row.pinned === true;
  const pin = h('button', {
    type: 'button', class: 'btn', testid: 'pin-toggle', 'aria-pressed': String(pinned),
    title: pinned ? 'Unpin: prune may delete this call again' : 'Pin: prune keeps this call',
  }, pinned ? 'Pinned' : 'Pin');
  pin.addEventListener('click', () => save({ pinned: !pinned }, pin));

  const tags = Array.isArray(row.tags) ? row.tags : [];
  const chips = tags.map((t) => {
    const remove = h('button', { type: 'button', class: 'tag-remove', testid: 'tag-remove', 'aria-label': `Remove tag ${t}`, title: 'Remove this tag' }, '×');
    remove.addEventListener('click', () => save({ tags: tags.filter((x) => x !== t) }, remove));
    return h('span', { class: 'tag tag-chip', testid: 'tag-chip', data: { tag: t } },
      h('a', { href: `#/?tag=${encodeURIComponent(t)}`, title: `All calls tagged ${t}` }, t), remove);
  });
  const input = h('input', { type: 'text', class: 'tag-input', testid: 'tag-input', placeholder: 'add tags: bug-4411, onboarding', 'aria-label': 'Tags to add', autocomplete: 'off', spellcheck: 'false' });
  const add = h('button', { type: 'submit', class: 'btn', testid: 'tag-add' }, 'Add');
  const tagForm = h('form', { class: 'tag-form' }, input, add);
  tagForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const more = input.value.split(',').map((x) => x.trim()).filter(Boolean);
    if (!more.length) return;
    save({ tags: [...new Set([...tags, ...more])] }, add);
  });

  const text = h('textarea', { class: 'note-text', testid: 'note-text', rows: '3', maxlength: '4000', placeholder: 'A note for this call (kept beside it, exported with it)', 'aria-label': 'Note' });
  text.value = row.note || '';
  const saveNote = h('button', { type: 'button', class: 'btn', testid: 'note-save' }, 'Save note');
  saveNote.addEventListener('click', () => save({ note: text.value.trim() ? text.value : null }, saveNote));

  box.append(
    h('div', { class: 'notes-row' }, pin, h('span', { class: 'tag-list', testid: 'tag-list' }, chips), tagForm),
    h('div', { class: 'notes-row' }, text, saveNote),
    status);
}
