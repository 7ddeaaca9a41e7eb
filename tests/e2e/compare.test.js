// Compare: two calls picked in the list, or a call and the previous one to the same
// endpoint from its detail, side by side as the server's diff (GET /api/requests/A/diff,
// the library's reqlog_diff) says: differences marked, volatile values greyed, a toggle
// that hides them, "Ignore" and "Compare" on a path, and recorded markup shown as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  T_UI, sel, fileBrowser, withPage, gotoList, gotoDetail, apiJson, apiFetch, waitForHash,
} from './lib.js';

const shared = fileBrowser();

const XSS_ID = Number(process.env.E2E_XSS_ID || 0);

// Two seeded GETs of different participants: their bodies differ, their headers too.
async function twoParticipants() {
  const j = await apiJson('/api/requests?method=GET&path=/public/v1/participants/&status=200&limit=100');
  const byPath = new Map();
  for (const r of j.items) if (/\/participants\/\d+$/.test(r.path) && !byPath.has(r.path)) byPath.set(r.path, r.id);
  const ids = [...byPath.values()].slice(0, 2).sort((x, y) => x - y);
  assert.equal(ids.length, 2, 'the seeded database has GETs of two participants');
  return ids;
}

async function waitCompared(page) {
  await page.locator(sel('compare')).waitFor({ state: 'visible' });
  await page.locator(sel('compare-summary')).waitFor({ state: 'visible', timeout: T_UI });
}

const rowOf = (page, path) => page.locator(`${sel('compare')} ${sel('compare-row')}[data-path="${path}"]`);

test('Two calls picked in the list are compared side by side, as the API says', async (t) => {
  const [a, b] = await twoParticipants();
  const want = await apiJson(`/api/requests/${a}/diff?with=${b}`);
  assert.equal(want.equal, false, 'two participants differ');
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoList(page, 'method=GET&path=/public/v1/participants/');
    const bar = page.locator(sel('compare-bar'));
    assert.equal(await bar.isVisible(), false, 'no bar before a pick');
    // picked newer first: the comparison still puts the older call as A
    await page.locator(`[data-testid="request-row"][data-id="${b}"] ${sel('compare-pick')}`).check();
    await bar.waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel('compare-open')).isDisabled(), true, 'one pick is not enough');
    assert.equal(await page.locator(sel('detail')).isVisible(), false, 'a pick does not open the call');
    await page.locator(`[data-testid="request-row"][data-id="${a}"] ${sel('compare-pick')}`).check();
    await page.locator(sel('compare-open')).click();
    await waitForHash(page, () => location.hash.startsWith('#/compare/'), 'the comparison');
    assert.equal(new URL(page.url()).hash, `#/compare/${a}/${b}`);
    await waitCompared(page);

    const summary = page.locator(sel('compare-summary'));
    assert.equal(await summary.getAttribute('data-differences'), String(want.differences));
    assert.equal(await summary.getAttribute('data-ignored'), String(want.ignored));
    assert.match(await summary.textContent(), new RegExp(`^${want.differences} differences?$`));
    assert.equal(await page.locator(sel('compare-a')).textContent(), `#${a}`);

    // every difference of the API is a row with its state; the values are shown
    const body = want.response_body.changes;
    assert.ok(body.length > 0, 'the bodies differ');
    for (const e of body) {
      const row = rowOf(page, e.path);
      assert.equal(await row.count(), 1, `a row for ${e.path}`);
      assert.equal(await row.getAttribute('data-state'), e.state);
      if (typeof e.a === 'string') assert.equal(await row.locator('.d-a').textContent(), e.a);
      if (typeof e.b === 'string') assert.equal(await row.locator('.d-b').textContent(), e.b);
    }
    // volatile headers are there, greyed, with their reason, and the toggle hides them
    const ignored = want.response_headers.filter((e) => e.ignored && e.state !== 'same');
    assert.ok(ignored.length > 0, 'some response header is volatile (rate-limit counter, length)');
    const vol = rowOf(page, ignored[0].path);
    assert.equal(await vol.getAttribute('data-ignored'), ignored[0].ignored);
    const [volColor, plainColor, volOpacity] = await Promise.all([
      vol.locator('.d-b').evaluate((e) => getComputedStyle(e).color),
      rowOf(page, body[0].path).locator('.d-b').evaluate((e) => getComputedStyle(e).color),
      vol.evaluate((e) => Number(getComputedStyle(e).opacity)),
    ]);
    assert.ok(volColor !== plainColor || volOpacity < 1, 'an ignored row is greyed');
    await page.locator(sel('compare-show-ignored')).uncheck();
    await vol.waitFor({ state: 'hidden' });
    assert.equal(await rowOf(page, body[0].path).isVisible(), true, 'differences stay');
    await page.locator(sel('compare-show-ignored')).check();
    await vol.waitFor({ state: 'visible' });

    // "Ignore" on a difference: it moves to the ignored ones, the count goes down
    const path = body[0].path;
    await rowOf(page, path).locator(sel('compare-ignore')).click();
    await waitForHash(page, () => location.hash.includes('ignore='), 'the ignored path in the URL');
    await page.waitForFunction((n) => document.querySelector('[data-testid="compare-summary"]')?.getAttribute('data-differences') === String(n),
      want.differences - 1, { timeout: T_UI });
    assert.equal(await rowOf(page, path).getAttribute('data-ignored'), 'ignored by request');
    const chip = page.locator(`${sel('compare-ignored-path')}[data-path="${path}"]`);
    assert.equal(await chip.count(), 1, 'the ignored path is a chip');
    // "Compare" on a volatile value brings it back as a difference
    await vol.locator(sel('compare-keep')).click();
    await waitForHash(page, () => location.hash.includes('keep='), 'the kept path in the URL');
    await page.waitForFunction((n) => document.querySelector('[data-testid="compare-summary"]')?.getAttribute('data-differences') === String(n),
      want.differences, { timeout: T_UI });
    assert.equal(await rowOf(page, ignored[0].path).getAttribute('data-ignored'), null);
    // the chip's × stops ignoring
    await chip.locator('button').click();
    await page.waitForFunction((n) => document.querySelector('[data-testid="compare-summary"]')?.getAttribute('data-differences') === String(n),
      want.differences + 1, { timeout: T_UI });
    assert.equal(await rowOf(page, path).getAttribute('data-ignored'), null);

    // timing side by side, never counted
    const timing = page.locator(sel('compare-timing'));
    assert.equal(await timing.locator('tbody tr').count(), want.timing.length);

    await page.keyboard.press('Escape');
    await page.locator(sel('compare')).waitFor({ state: 'hidden' });
    assert.deepEqual(watch.dialogs, [], 'no dialog');
  });
});

test('"Compare with previous" in the detail compares with the call before it to the same endpoint', async (t) => {
  const list = await apiJson('/api/requests?method=GET&path=/public/v1/participants&status=200&limit=50');
  const same = list.items.filter((r) => r.path === '/public/v1/participants');
  assert.ok(same.length >= 2, 'two seeded GET /participants');
  const id = same[0].id;
  const want = await apiJson(`/api/requests/${id}/diff?with=previous`);
  assert.equal(want.b.id, id);
  assert.ok(want.a.id < id, 'the previous call is older');
  await withPage(shared.browser, t, async (page) => {
    await gotoDetail(page, id);
    await page.locator(sel('compare-previous')).click();
    await waitForHash(page, () => location.hash.includes('/previous'), 'the comparison with the previous call');
    await waitCompared(page);
    assert.equal(await page.locator(sel('compare-a')).textContent(), `#${want.a.id}`);
    assert.equal(await page.locator(sel('compare-b')).textContent(), `#${id}`);
    assert.equal(await page.locator(sel('compare-summary')).getAttribute('data-equal'), String(want.equal));
    if (want.equal) assert.equal((await page.locator(sel('compare-summary')).textContent()).trim(), 'equal');
  });
  // the oldest call to an endpoint has none before it: a 404 that says so
  const all = (await apiJson('/api/requests?method=GET&path=/public/v1/participants&limit=500')).items
    .filter((r) => r.path === '/public/v1/participants');
  const res = await apiFetch(`/api/requests/${all[all.length - 1].id}/diff?with=previous`);
  assert.equal(res.status, 404);
  assert.match((await res.json()).message, /no call to GET/);
});

test('Recorded markup in a comparison stays text', async (t) => {
  assert.ok(XSS_ID > 0, 'run.sh seeded the XSS call');
  const echo = (await apiJson('/api/requests?method=POST&path=*/echo&limit=50')).items.find((r) => r.id !== XSS_ID);
  assert.ok(echo, 'another POST /echo to compare with');
  await withPage(shared.browser, t, async (page, watch) => {
    await page.goto(`${process.env.E2E_BASE_URL}/#/compare/${echo.id}/${XSS_ID}`);
    await waitCompared(page);
    const pane = page.locator(sel('compare'));
    assert.ok((await pane.textContent()).includes('<script>alert(2)</script>'), 'the payload is shown as text');
    assert.equal(await pane.locator('script, img, svg, iframe').count(), 0, 'and never as markup');
    assert.deepEqual(watch.dialogs, [], 'no alert ran');
  });
});
