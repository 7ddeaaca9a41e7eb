// The API's request id (X-Request-Id and the like, which the demo API sends): shown in
// the list and the detail, a link to the calls with that id, and the filter-request-id
// input, all giving what GET /api/requests?request_id= gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sel, ROW, fileBrowser, withPage, gotoList, gotoDetail, apiJson, waitRowsMatch, waitForHash, hashParams,
} from './lib.js';

const shared = fileBrowser();

async function rowWithId() {
  const j = await apiJson('/api/requests?limit=100');
  const row = j.items.find((r) => typeof r.request_id === 'string' && r.request_id);
  assert.ok(row, 'the demo API answers with an X-Request-Id, kept as the request id');
  const fromHeader = (row.response_headers || []).find(([n]) => n.toLowerCase() === 'x-request-id');
  assert.ok(fromHeader, 'the row has the header');
  assert.equal(row.request_id, fromHeader[1], 'the request id is the header\'s value');
  return row;
}

test('The request id is shown in the list and the detail, and finds its call', async (t) => {
  const row = await rowWithId();
  const want = (await apiJson(`/api/requests?request_id=${encodeURIComponent(row.request_id)}`)).items.map((r) => r.id);
  assert.deepEqual(want, [row.id], 'the filter finds exactly that call');
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page);
    const cell = page.locator(`${ROW}[data-id="${row.id}"] ${sel('row-request-id')}`);
    assert.equal((await cell.textContent()).trim(), row.request_id, 'the list row shows it');

    await gotoDetail(page, row.id);
    const link = page.locator(`${sel('detail')} ${sel('detail-request-id')}`);
    assert.equal((await link.textContent()).trim(), row.request_id, 'the detail shows it');
    await link.click();
    await waitForHash(page, () => location.hash.includes('request_id='), 'the request id filter in the URL');
    assert.equal(hashParams(page.url()).get('request_id'), row.request_id);
    await waitRowsMatch(page, want, `request_id=${row.request_id}`);
    assert.equal(await page.locator(sel('filter-request-id')).inputValue(), row.request_id, 'the filter bar shows it');

    // typed into the filter bar: the same
    await gotoList(page);
    await page.locator(sel('filter-request-id')).fill(row.request_id);
    await page.locator(sel('filter-apply')).click();
    await waitRowsMatch(page, want, 'the typed request id');
  });
});
