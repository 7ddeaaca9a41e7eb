// Notes, tags and pins from the detail view: each change is saved through POST
// /api/requests/ID/notes, shown again from the server's answer, listed on the call's
// row, and found by the filters tag= and pinned= (the filter bar's Tag and Pinned).
// Hostile text in a note stays text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, T_UI, sel, ROW, fileBrowser, withPage, gotoDetail, gotoList, apiJson, expectedIds,
  waitRowsMatch, firstRow,
} from './lib.js';

const shared = fileBrowser();

test('pin, tag and note a call from its detail; the list and the filters show them', async (t) => {
  const row = await firstRow('status=2xx');
  const tag = `e2e-${Date.now().toString(36)}`;
  const hostile = '<img src=x onerror=alert(1)> "quoted" & more';
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoDetail(page, row.id);
    const notes = page.locator(sel('notes'));
    await notes.waitFor({ state: 'visible' });

    // pin
    const pin = page.locator(sel('pin-toggle'));
    assert.equal(await pin.getAttribute('aria-pressed'), 'false', 'a seeded call starts unpinned');
    await pin.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pin-toggle"]')?.getAttribute('aria-pressed') === 'true', null, { timeout: T_UI });
    assert.equal((await apiJson(`/api/requests/${row.id}`)).pinned, true, 'the server has the pin');

    // tags: two added at once, one removed
    await page.locator(sel('tag-input')).fill(`${tag}, second-${tag}`);
    await page.locator(sel('tag-add')).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tag-chip"]').length === 2, null, { timeout: T_UI });
    let saved = await apiJson(`/api/requests/${row.id}`);
    assert.deepEqual(saved.tags, [tag, `second-${tag}`].sort(), 'the server has both tags, sorted');
    await page.locator(`${sel('tag-chip')}[data-tag="second-${tag}"] ${sel('tag-remove')}`).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tag-chip"]').length === 1, null, { timeout: T_UI });
    assert.deepEqual((await apiJson(`/api/requests/${row.id}`)).tags, [tag]);

    // a bad tag: refused with the server's reason, nothing changed
    await page.locator(sel('tag-input')).fill('no spaces allowed');
    await page.locator(sel('tag-add')).click();
    await page.waitForFunction(() => /Not saved: .*not a tag/.test(document.querySelector('[data-testid="notes-status"]')?.textContent || ''), null, { timeout: T_UI });
    assert.deepEqual((await apiJson(`/api/requests/${row.id}`)).tags, [tag], 'a refused tag changed nothing');

    // note, hostile text kept as text
    await page.locator(sel('note-text')).fill(hostile);
    await page.locator(sel('note-save')).click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="notes-status"]')?.textContent || '') === 'Saved.', null, { timeout: T_UI });
    saved = await apiJson(`/api/requests/${row.id}`);
    assert.equal(saved.note, hostile, 'the server has the note as typed');
    assert.equal(await page.locator(sel('note-text')).inputValue(), hostile);
    assert.equal(await page.locator('[data-testid="notes"] img').count(), 0, 'the note made no element');

    // the recorded call itself is unchanged
    for (const k of ['method', 'url', 'status', 'request_headers', 'response_headers', 'response_body']) {
      assert.deepEqual(saved[k], row[k] === undefined ? saved[k] : row[k], `${k} unchanged`);
    }

    // the list row says pinned, the tag and that there is a note
    const listed = page.locator(`${ROW}[data-id="${row.id}"]`);
    await listed.locator(sel('row-pinned')).waitFor({ state: 'visible' });
    assert.equal((await listed.locator(sel('row-tag')).allTextContents()).join(','), tag);
    assert.equal(await listed.locator(sel('row-note')).count(), 1);
    assert.deepEqual(watch.dialogs, [], 'no dialog opened');
    assert.deepEqual(watch.pageErrors, []);
  });

  // the filters, in the page and in the API
  const tagged = await expectedIds(`tag=${tag}`);
  assert.deepEqual(tagged, [row.id], 'tag= finds exactly the tagged call');
  const pinned = await expectedIds('pinned=1');
  assert.ok(pinned.includes(row.id), 'pinned=1 finds it');
  assert.ok(!(await expectedIds('pinned=0')).includes(row.id), 'pinned=0 does not');
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page, `tag=${tag}`);
    await waitRowsMatch(page, tagged, `tag=${tag}`);
    assert.equal(await page.locator(sel('filter-tag')).inputValue(), tag, 'the filter bar shows the tag');
    await gotoList(page);
    if (await page.locator('#filters-more').isVisible()) await page.locator('#filters-more').click();
    await page.locator(sel('filter-pinned')).selectOption('1');
    await page.waitForFunction(() => /pinned=1/.test(location.hash), null, { timeout: T_UI });
    await waitRowsMatch(page, pinned, 'pinned=1');
  });

  // unpin and clear, through the page again, so the seeded database is left as it was
  await withPage(shared.browser, t, async (page) => {
    await gotoDetail(page, row.id);
    await page.locator(sel('pin-toggle')).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pin-toggle"]')?.getAttribute('aria-pressed') === 'false', null, { timeout: T_UI });
    await page.locator(sel('tag-remove')).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tag-chip"]').length === 0, null, { timeout: T_UI });
    await page.locator(sel('note-text')).fill('');
    await page.locator(sel('note-save')).click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="notes-status"]')?.textContent || '') === 'Saved.', null, { timeout: T_UI });
  });
  const after_ = await apiJson(`/api/requests/${row.id}`);
  assert.equal(after_.pinned, false);
  assert.deepEqual(after_.tags, []);
  assert.equal(after_.note, null);
});

test('the notes API refuses another origin and bad bodies', async () => {
  const row = await firstRow('status=2xx');
  const url = `${BASE}/api/requests/${row.id}/notes`;
  const was = await apiJson(`/api/requests/${row.id}`);
  let res = await fetch(url, { method: 'POST', body: '{"pinned":true}', headers: { Origin: 'http://evil.example' } });
  assert.equal(res.status, 403, 'cross-origin POST refused');
  res = await fetch(url, { method: 'POST', body: 'not json', headers: { Origin: BASE } });
  assert.equal(res.status, 400);
  res = await fetch(url, { method: 'POST', body: '{"pinned":"yes"}', headers: { Origin: BASE } });
  assert.equal(res.status, 400);
  assert.ok((await res.json()).errors.pinned, 'the 400 names pinned');
  res = await fetch(`${BASE}/api/requests/99999999/notes`, { method: 'POST', body: '{"pinned":true}', headers: { Origin: BASE } });
  assert.equal(res.status, 404);
  const now = await apiJson(`/api/requests/${row.id}`);
  assert.deepEqual([now.pinned, now.tags, now.note], [was.pinned, was.tags, was.note], 'nothing refused was saved');
});
