// The dashboard fixes of issue 14 ("found when tried as a new user would"), one test
// each; every one failed before its fix:
//   live tail count      a live row counted in "N of M calls" and in the stats strip at
//                        once (it said "15 of 13 calls" until the next stats load)
//   timing remainder     a call that got no response has no "Download" phase
//   filter in the URL    opening a call keeps the list's filter in the URL (#/requests/ID?…),
//                        a reload keeps it, closing goes back to it
//   failed load          a list that could not be loaded offers no "Load older"
//   429s                 the stats label reads "429s", not "429S"
//   transport error once the detail says a call's transport error once
//   fold                 the filter bar and the stats strip fold away and come back
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, T_UI, T_LIVE, sel, ROW, fileBrowser, withPage, gotoList, gotoDetail, apiJson,
  expectedIds, waitRowsMatch, recordCall, firstRow,
} from './lib.js';

const shared = fileBrowser();

const summaryNumbers = (text) => {
  const m = /^([\d,]+) of ([\d,]+) call/.exec(text || '');
  return m ? [Number(m[1].replace(/,/g, '')), Number(m[2].replace(/,/g, ''))] : null;
};

test('live tail: the header count and the stats strip count a new row at once', async (t) => {
  await withPage(shared.browser, t, async (page) => {
    const filter = 'path=*/echo&method=PATCH';
    await recordCall('PATCH', '/echo', ['-d', '{"first":1}']);
    await gotoList(page, filter);
    await page.waitForFunction(() => /^\d[\d,]* of \d/.test(document.getElementById('summary').textContent), null, { timeout: T_UI });
    await page.locator(sel('live-toggle')).check();
    await page.waitForFunction(() => document.body.classList.contains('is-live'), null, { timeout: T_UI });
    const id = await recordCall('PATCH', '/echo', ['-d', '{"live":1}']);
    // the moment the row is on top, the count and the strip must already include it
    const seen = await page.waitForFunction((want) => {
      const first = document.querySelector('[data-testid="request-row"]');
      if (!first || Number(first.dataset.id) !== want) return null;
      return {
        summary: document.getElementById('summary').textContent,
        total: document.querySelector('[data-testid="stats-total"]').textContent,
        rows: document.querySelectorAll('[data-testid="request-row"]').length,
      };
    }, id, { timeout: T_LIVE });
    const s = await seen.jsonValue();
    const n = summaryNumbers(s.summary);
    assert.ok(n, `the summary reads "N of M calls": "${s.summary}"`);
    assert.ok(n[0] <= n[1], `never more shown than there are: "${s.summary}"`);
    assert.equal(n[0], s.rows, 'N is the rows listed');
    const count = (await expectedIds(filter)).length;
    assert.equal(n[1], count, `M is the filter's count (${count})`);
    assert.equal(Number(s.total.replace(/,/g, '')), count, `the stats strip counts it too: ${s.total}`);
  });
});

test('timing: a call that got no response has no Download phase', async (t) => {
  const row = await firstRow('status=error');
  await withPage(shared.browser, t, async (page) => {
    await gotoDetail(page, row.id);
    const phases = await page.$$eval('[data-testid="timing-bar"] .tseg', (s) => s.map((e) => e.dataset.phase));
    assert.ok(!phases.includes('download'), `no download phase for a call with no response: ${phases}`);
    const legend = await page.locator('.timing-legend').textContent();
    assert.ok(!/Download/.test(legend), `the legend says no Download: ${legend}`);
    assert.ok(/No response/.test(legend), `it names the time until the failure: ${legend}`);
  });
});

test('opening a call keeps the list filter in the URL, across a reload and back', async (t) => {
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page, 'status=4xx');
    const first = page.locator(ROW).first();
    const id = await first.getAttribute('data-id');
    await first.locator('a.path-link').click();
    await page.waitForFunction((i) => location.hash.startsWith(`#/requests/${i}`), id, { timeout: T_UI });
    assert.match(new URL(page.url()).hash, new RegExp(`^#/requests/${id}\\?status=4xx$`), 'the detail URL keeps the filter');
    await page.reload();
    await page.locator(sel('detail-status')).waitFor({ state: 'visible' });
    await waitRowsMatch(page, await expectedIds('status=4xx'), 'status=4xx after a reload');
    await page.locator(sel('detail-close')).click();
    await page.waitForFunction(() => location.hash === '#/?status=4xx', null, { timeout: T_UI });
  });
});

test('a list that failed to load offers no "Load older"', async (t) => {
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page);
    assert.ok((await expectedIds()).length > 50, 'the seeded history has more than a page');
    await page.locator(sel('load-older')).waitFor({ state: 'visible' });
    await page.goto(`${BASE}/#/?status=4yy`);
    await page.waitForFunction(() => /could not be loaded/.test(document.getElementById('list-note')?.textContent || ''), null, { timeout: T_UI });
    assert.equal(await page.locator(sel('load-older')).isVisible(), false, 'no Load older after a failed load');
  });
});

test('the stats label reads "429s"', async (t) => {
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page);
    const label = page.locator('.stat-429 .stat-label');
    assert.equal(await label.innerText(), '429s');
  });
});

test('the detail says a transport error once', async (t) => {
  const row = await firstRow('status=error');
  assert.ok(row.error, 'the row has a transport error');
  await withPage(shared.browser, t, async (page) => {
    await gotoDetail(page, row.id);
    const text = await page.locator(sel('detail')).innerText();
    const times = text.split(row.error).length - 1;
    assert.equal(times, 1, `"${row.error}" is said ${times} times in the detail`);
  });
});

test('the filter bar and the stats strip fold away and come back', async (t) => {
  await withPage(shared.browser, t, async (page) => {
    await gotoList(page);
    const fold = page.locator(sel('fold-toggle'));
    assert.equal(await fold.getAttribute('aria-expanded'), 'true');
    await fold.click();
    await page.locator('#filters').waitFor({ state: 'hidden' });
    await page.locator(sel('stats')).waitFor({ state: 'hidden' });
    assert.equal(await fold.getAttribute('aria-expanded'), 'false');
    assert.ok(await page.locator(ROW).first().isVisible(), 'the list stays');
    await page.reload();
    await page.locator(ROW).first().waitFor({ state: 'visible' });
    assert.equal(await page.locator('#filters').isVisible(), false, 'folded after a reload');
    await page.locator(sel('fold-toggle')).click();
    await page.locator('#filters').waitFor({ state: 'visible' });
    await page.locator(sel('stats')).waitFor({ state: 'visible' });
  });
});
