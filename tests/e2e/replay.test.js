// Replay from the detail view: the button first shows what would be sent (the server's
// GET …/replay preview: method, URL, whether the key goes and which one, or why not),
// Cancel sends nothing, Send makes a new row and opens it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_URL, T_UI, sel, launchBrowser, withPage, gotoDetail, waitDetailLoaded, apiJson, expectedIds,
} from './lib.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
});

// The newest seeded row of the fake API's /echo that can be replayed (a text body).
async function echoRow() {
  const j = await apiJson('/api/requests?path=*/echo&limit=50');
  for (const r of j.items) {
    const full = await apiJson(`/api/requests/${r.id}`);
    if (!full.request_truncated && (full.request_body === null || typeof full.request_body === 'string')) return full;
  }
  throw new Error('the seeded database has no replayable /echo row');
}

test('Replay shows what it sends, key or no key and why, before sending', async (t) => {
  const row = await echoRow();
  const plan = await apiJson(`/api/requests/${row.id}/replay`);
  assert.equal(plan.method, row.method, 'the preview names the row\'s method');
  assert.equal(plan.url, row.url, 'the preview names the row\'s URL');
  if (API_URL) {
    // serve runs with the key but no REQLOG_BASE_URL: the fake API is not the key's host
    assert.ok(row.url.startsWith(API_URL), `${row.url} is the fake API's`);
    assert.equal(plan.sends_key, false, 'the key does not go to a host other than the configured API');
    assert.equal(plan.key, null);
    assert.match(plan.why, /host/, 'the preview says why no key goes');
  }
  await withPage(browser, t, async (page, watch) => {
    await gotoDetail(page, row.id);
    const before = await expectedIds();

    await page.locator(sel('replay')).click();
    const box = page.locator(sel('replay-confirm'));
    await box.waitFor({ state: 'visible' });
    const said = ((await page.locator(sel('replay-text')).textContent()) || '').trim();
    assert.ok(said.startsWith(`Sends ${plan.method} ${plan.url} with `), `the confirmation names the call: "${said}"`);
    if (plan.sends_key) assert.ok(said.includes(`with key ${plan.key}`), `it names the key: "${said}"`);
    else assert.ok(said.includes('with no Authorization') && said.includes(plan.why), `it says no key goes and why: "${said}"`);

    await page.locator(sel('replay-cancel')).click();
    await box.waitFor({ state: 'hidden' });
    assert.deepEqual(await expectedIds(), before, 'Cancel sent nothing: no new row');

    await page.locator(sel('replay')).click();
    await box.waitFor({ state: 'visible' });
    await page.locator(sel('replay-send')).click();
    await page.waitForFunction((old) => /^#\/requests\/\d+$/.test(location.hash) && location.hash !== old,
      `#/requests/${row.id}`, { timeout: T_UI });
    await waitDetailLoaded(page);
    const newId = Number(new URL(page.url()).hash.split('/').pop());
    assert.ok(newId > row.id, `Send opened the new row #${newId}`);
    const fresh = await apiJson(`/api/requests/${newId}`);
    assert.equal(fresh.url, row.url, 'the new row is the same call');
    assert.equal(fresh.key === null, !plan.sends_key, 'the new row carries a key exactly when the preview said so');
    assert.deepEqual(watch.dialogs, [], 'no browser dialog was used');
  });
});
