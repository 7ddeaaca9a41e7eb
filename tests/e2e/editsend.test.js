// "Edit and send" in the detail: method, URL, headers and body edited, reviewed (the
// server's plan names the key by its fingerprint, or says why none goes), sent as a new
// call whose detail links back (replay_of) while the original's links to it. serve runs
// with the key but no REQLOG_BASE_URL: the fake API gets the key only when it is named
// as this replay's base URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_URL, T_UI, sel, fileBrowser, withPage, gotoDetail, waitDetailLoaded, apiJson,
} from './lib.js';

const shared = fileBrowser();

async function echoRow() {
  const j = await apiJson('/api/requests?path=*/echo&status=2xx&limit=50');
  for (const r of j.items) {
    const full = await apiJson(`/api/requests/${r.id}`);
    if (full.key && !full.request_truncated && (full.request_body === null || typeof full.request_body === 'string')) return full;
  }
  throw new Error('the seeded database has no replayable /echo row with a key');
}

test('Edit and send: edited call reviewed, sent, linked both ways; the key only to the base URL named', async (t) => {
  assert.ok(API_URL, 'run.sh gives the fake API URL');
  const row = await echoRow();
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoDetail(page, row.id);
    await page.locator(sel('edit-open')).click();
    await page.locator(sel('edit-form')).waitFor({ state: 'visible' });
    await page.locator(sel('edit-method')).fill('PUT');
    const headers = await page.locator(sel('edit-headers')).inputValue();
    assert.ok(!/authorization/i.test(headers), 'the recorded Authorization is not offered');
    await page.locator(sel('edit-headers')).fill(`${headers}\nX-Edited: yes`.trim());
    await page.locator(sel('edit-body')).fill('{"edited":true}');

    // no base URL: the fake API is not the configured API: no key, and why
    await page.locator(sel('edit-review')).click();
    const plan = page.locator(sel('edit-plan'));
    await plan.waitFor({ state: 'visible' });
    assert.match(await plan.textContent(), /^Sends PUT .* with no Authorization\. /);

    // the fake API named as this replay's base URL: the key goes, named by fingerprint
    await page.locator(sel('edit-base-url')).fill(API_URL);
    await plan.waitFor({ state: 'hidden' });
    await page.locator(sel('edit-review')).click();
    await plan.waitFor({ state: 'visible' });
    const said = await plan.textContent();
    assert.match(said, /^Sends PUT http.* with key …\S+#[0-9a-f]{8}\.$/, `the plan names the key: ${said}`);
    const fp = said.match(/with key (\S+)\.$/)[1];

    await page.locator(sel('edit-send')).click();
    await page.waitForFunction((old) => /^#\/requests\/\d+$/.test(location.hash) && location.hash !== old,
      `#/requests/${row.id}`, { timeout: T_UI });
    await waitDetailLoaded(page);
    const newId = Number(new URL(page.url()).hash.split('/').pop());
    const fresh = await apiJson(`/api/requests/${newId}`);
    assert.equal(fresh.replay_of, row.id, 'the new call names the one it came from');
    assert.equal(fresh.method, 'PUT');
    assert.equal(fresh.key, fp, 'the key the plan named went');
    assert.equal(fresh.status, 200, 'the fake API accepted the key');
    const echo = JSON.parse(fresh.response_body);
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.body, '{"edited":true}');
    assert.ok(echo.headers.some(([n, v]) => n.toLowerCase() === 'x-edited' && v === 'yes'), 'the edited header went');
    const back = page.locator(sel('detail-replay-of'));
    assert.equal(await back.textContent(), `#${row.id}`, 'the new detail links back');

    await back.click();
    await page.waitForFunction((id) => location.hash === `#/requests/${id}`, row.id, { timeout: T_UI });
    await waitDetailLoaded(page);
    await page.locator(`${sel('detail-replay')}[href="#/requests/${newId}"]`).waitFor({ state: 'visible' });
    assert.deepEqual(watch.dialogs, []);
    assert.deepEqual(watch.pageErrors, []);
  });
});
