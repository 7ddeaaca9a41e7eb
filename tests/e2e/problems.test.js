// Problems: the failing calls of the current filters grouped (GET /api/problems, the
// library's reqlog_problems), from the top bar's link; a click on a group opens the list
// filtered to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sel, fileBrowser, withPage, gotoList, apiJson, expectedIds, waitRowsMatch, waitForHash, hashParams,
} from './lib.js';

const shared = fileBrowser();

async function waitProblems(page) {
  await page.locator(sel('problems')).waitFor({ state: 'visible' });
  await page.locator(sel('problems-summary')).waitFor({ state: 'visible' });
}

test('Problems groups the failing calls as the API does, and a group opens its calls', async (t) => {
  const want = await apiJson('/api/problems');
  assert.ok(want.total > 0 && want.groups.length > 0, 'the seeded history has failing calls');
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoList(page);
    await page.locator(sel('problems-link')).click();
    await waitForHash(page, () => location.hash.startsWith('#/problems'), 'the problems view');
    await waitProblems(page);
    const summary = page.locator(sel('problems-summary'));
    assert.equal(await summary.getAttribute('data-total'), String(want.total));
    assert.equal(await summary.getAttribute('data-groups'), String(want.groups_total));
    const rows = page.locator(sel('problem-group'));
    assert.equal(await rows.count(), want.groups.length);
    for (let i = 0; i < want.groups.length; i++) {
      const g = want.groups[i];
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-count'), String(g.count));
      assert.equal(await row.getAttribute('data-template'), g.template);
      assert.equal(await row.getAttribute('data-status'), g.status === null ? 'error' : String(g.status));
      assert.equal(await row.locator(sel('problem-spark')).count(), 1, 'each group has a sparkline');
    }
    const withId = want.groups.findIndex((g) => g.template.includes('{id}'));
    assert.ok(withId >= 0, 'a numeric path segment is collapsed to {id}');

    // a click opens the list filtered to the group
    const g = want.groups[0];
    await rows.nth(0).click();
    await waitForHash(page, () => location.hash.startsWith('#/?'), 'the list of the group');
    const params = hashParams(page.url());
    for (const [k, v] of Object.entries(g.filter)) assert.equal(params.get(k), v, `the list filter ${k}`);
    assert.equal(await page.locator(sel('problems')).isVisible(), false, 'the problems view closed');
    const ids = await expectedIds(params.toString());
    assert.ok(ids.length >= g.count, 'the list has at least the group\'s calls');
    await waitRowsMatch(page, ids, 'the group\'s list');
    assert.deepEqual(watch.dialogs, [], 'no dialog');
  });
});

test('Problems follow the list\'s filters', async (t) => {
  const want = await apiJson('/api/problems?status=422');
  assert.ok(want.groups.length > 0, 'the seeded history has a 422');
  assert.ok(want.groups.every((g) => g.status === 422 && Array.isArray(g.fields)), '422 groups name their fields');
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page, 'status=422');
    await page.locator(sel('problems-link')).click();
    await waitProblems(page);
    assert.equal(hashParams(page.url().replace('#/problems', '#/')).get('status'), '422');
    assert.equal(await page.locator(sel('problems-summary')).getAttribute('data-total'), String(want.total));
    const statuses = await page.locator(sel('problem-group')).evaluateAll((rs) => rs.map((r) => r.dataset.status));
    assert.ok(statuses.length > 0 && statuses.every((s) => s === '422'));
    const text = await page.locator(sel('problem-group')).first().textContent();
    for (const f of want.groups[0].fields) assert.ok(text.includes(f), `the group names field ${f}`);
    await page.keyboard.press('Escape');
    await page.locator(sel('problems')).waitFor({ state: 'hidden' });
  });
});
