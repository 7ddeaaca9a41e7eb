// The list view: filters held in the URL, back button, keyboard, narrow screens,
// CSV export of the current filter, live tail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  BASE, T_UI, T_LIVE, ROW, sel, launchBrowser, withPage, gotoList, expectedIds, waitRowsMatch,
  rowIds, rowStatuses, hashParams, statusValues, waitForHash, isOn, waitUntil, apiFetch, recordCall,
  waitDetailLoaded,
} from './lib.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
});

test('status class chip 4xx filters the list and is kept in the URL hash', async (t) => {
  await withPage(browser, t, async (page) => {
    await gotoList(page);
    const chip = page.locator(`${sel('filter-status-class')}[data-value="4xx"]`);
    await chip.click();
    await waitForHash(page, () => /[?&]status=[^&]*4xx/.test(decodeURIComponent(location.hash)), 'status=4xx');
    const params = hashParams(page.url());
    assert.ok(params, `hash is a list route: ${page.url()}`);
    assert.deepEqual(statusValues(params), ['4xx'], 'the hash holds exactly status=4xx');
    const ids = await waitRowsMatch(page, await expectedIds('status=4xx'), 'status=4xx');
    const statuses = await rowStatuses(page);
    const bad = statuses.filter((s) => !/^4\d\d$/.test(s || ''));
    assert.deepEqual(bad, [], 'every request-row has a 4xx data-status');
    const state = await isOn(chip);
    if (state !== null) assert.equal(state, true, 'the 4xx chip shows as selected');
    console.log(`  checked: 4xx chip → hash ${new URL(page.url()).hash}, ${ids.length} rows, statuses {${[...new Set(statuses)].join(',')}} match GET /api/requests?status=4xx; chip state ${state}`);
  });
});

test('path filter (Enter in the input) lists only matching calls', async (t) => {
  await withPage(browser, t, async (page) => {
    await gotoList(page);
    const input = page.locator(sel('filter-path'));
    await input.fill('participants/');
    await input.press('Enter');
    await waitForHash(page, () => new URLSearchParams(location.hash.replace(/^#\/?\??/, '')).get('path') === 'participants/', 'path=participants/');
    const expected = await expectedIds('path=participants%2F');
    const ids = await waitRowsMatch(page, expected, 'path=participants/');
    const texts = await page.locator(ROW).allTextContents();
    const bad = texts.filter((x) => !x.includes('participants/'));
    assert.deepEqual(bad, [], 'every row shows a path containing "participants/"');
    console.log(`  checked: path "participants/" → hash ${new URL(page.url()).hash}, ${ids.length} rows = API answer, each row's text has the path`);
  });
});

test('back button restores the previous filter (inputs, chips and rows)', async (t) => {
  await withPage(browser, t, async (page) => {
    await gotoList(page);
    // A: the 4xx chip
    const chip = page.locator(`${sel('filter-status-class')}[data-value="4xx"]`);
    await chip.click();
    await waitForHash(page, () => /[?&]status=[^&]*4xx/.test(decodeURIComponent(location.hash)), 'A: status=4xx');
    const idsA = await waitRowsMatch(page, await expectedIds('status=4xx'), 'A: status=4xx');
    const hashA = new URL(page.url()).hash;
    // B: A plus a path
    const input = page.locator(sel('filter-path'));
    await input.fill('/public/v1/participants/999');
    await input.press('Enter');
    await waitForHash(page, () => /[?&]path=/.test(location.hash), 'B: path set');
    await waitRowsMatch(page, await expectedIds('status=4xx&path=%2Fpublic%2Fv1%2Fparticipants%2F999'), 'B: status=4xx&path=…/999');
    const hashB = new URL(page.url()).hash;
    assert.notEqual(hashB, hashA, 'B has its own URL');
    // back → A
    await page.goBack();
    await waitForHash(page, (h) => !/[?&]path=/.test(location.hash), 'A after goBack');
    assert.equal(new URL(page.url()).hash, hashA, 'the URL is A again');
    const ids = await waitRowsMatch(page, await expectedIds('status=4xx'), 'A after goBack');
    assert.deepEqual(ids, idsA, 'the rows are those of A');
    await waitUntil(async () => (await input.inputValue()) === '', T_UI, 'the path input to be empty again');
    const state = await isOn(chip);
    if (state !== null) assert.equal(state, true, 'the 4xx chip is selected again');
    // forward → B
    await page.goForward();
    await waitForHash(page, () => /[?&]path=/.test(location.hash), 'B after goForward');
    await waitUntil(async () => (await input.inputValue()) === '/public/v1/participants/999', T_UI, 'the path input to show B');
    console.log(`  checked: A=${hashA} (${idsA.length} rows) → B=${hashB} → back: URL, rows and empty path input are A's (chip state ${state}) → forward: B's path input`);
  });
});

// Which row the page marks as selected, -1 when none can be read.
function selectedIndex(page) {
  return page.$$eval(ROW, (rows) =>
    rows.findIndex(
      (r) =>
        r.getAttribute('aria-selected') === 'true' ||
        r.getAttribute('aria-current') === 'true' ||
        r.hasAttribute('data-selected') ||
        /(^|\s)(selected|is-selected|active|current)(\s|$)/.test(r.className) ||
        r === document.activeElement,
    ),
  );
}

async function openWithKeys(page, keys) {
  await page.goto('about:blank'); // a fresh page load, not a same-document hash change
  await gotoList(page);
  const ids = await rowIds(page);
  assert.ok(ids.length >= 4, 'at least 4 rows listed');
  await page.locator('body').evaluate(() => document.activeElement && document.activeElement.blur && document.activeElement.blur());
  const seen = [];
  for (const k of keys) {
    await page.keyboard.press(k);
    seen.push(await selectedIndex(page));
  }
  await page.keyboard.press('Enter');
  await waitDetailLoaded(page);
  await waitForHash(page, () => /^#\/requests\/\d+$/.test(location.hash), 'a call route after Enter');
  const opened = Number(/#\/requests\/(\d+)$/.exec(page.url())[1]);
  return { ids, opened, seen };
}

test('keyboard: j/k move the selection, Enter opens it, Esc closes it', async (t) => {
  await withPage(browser, t, async (page) => {
    const a = await openWithKeys(page, ['j', 'j', 'k']);
    const ia = a.ids.indexOf(a.opened);
    assert.ok(ia === 0 || ia === 1, `j j k Enter opens the first or second row (opened #${a.opened}, index ${ia})`);
    await page.keyboard.press('Escape');
    await page.locator(sel('detail')).waitFor({ state: 'hidden' });
    await waitForHash(page, () => !/^#\/requests\//.test(location.hash), 'the list route after Esc');
    await page.locator(ROW).first().waitFor({ state: 'visible' });

    const b = await openWithKeys(page, ['j', 'j', 'j', 'k']);
    const ib = b.ids.indexOf(b.opened);
    assert.equal(ib, ia + 1, `j j j k Enter opens the row after the one j j k did (index ${ib} vs ${ia})`);
    if (a.seen.every((i) => i >= 0)) {
      assert.equal(a.seen[0] + 1, a.seen[1], 'j moves the visible selection down by one');
      assert.equal(a.seen[2], a.seen[1] - 1, 'k moves it up by one');
    }
    await page.keyboard.press('Escape');
    await page.locator(sel('detail')).waitFor({ state: 'hidden' });
    console.log(`  checked: j j k Enter → #${a.opened} (index ${ia}); j j j k Enter → #${b.opened} (index ${ib}); Esc closes the detail and returns to the list route; visible selection indexes ${JSON.stringify(a.seen)}`);
  });
});

test('the page at 400 px wide loads and shows rows', async (t) => {
  await withPage(
    browser,
    t,
    async (page) => {
      await gotoList(page);
      const first = page.locator(ROW).first();
      const box = await first.boundingBox();
      assert.ok(box && box.width > 0 && box.height > 0, 'the first row has a box');
      assert.ok(box.x >= 0 && box.x < 400, `the first row starts inside the 400 px viewport (x=${box.x})`);
      const dims = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
      const n = await page.locator(ROW).count();
      assert.ok(await page.locator(sel('filter-path')).isVisible() || (await page.locator(sel('filter-status-class')).count()) > 0, 'the filter bar exists');
      console.log(`  checked: 400x800 viewport → ${n} rows, first row at x=${box.x} w=${Math.round(box.width)}; document scrollWidth ${dims.sw} vs innerWidth ${dims.iw}`);
    },
    { viewport: { width: 400, height: 800 } },
  );
});

test('export CSV of the current filter equals GET /api/export?format=csv with the same filter', async (t) => {
  await withPage(browser, t, async (page) => {
    const query = 'status=4xx&method=GET';
    await gotoList(page, query);
    await waitRowsMatch(page, await expectedIds(query), query);
    const link = page.locator(sel('export-csv'));
    await link.waitFor({ state: 'visible' });
    const href = await link.getAttribute('href');
    if (href) {
      const u = new URL(href, BASE);
      assert.equal(u.searchParams.get('format'), 'csv', `export-csv href has format=csv: ${href}`);
      assert.deepEqual(statusValues(u.searchParams), ['4xx'], `export-csv href carries status=4xx: ${href}`);
    }
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T_UI }), link.click()]);
    const failure = await download.failure();
    assert.equal(failure, null, 'the download completed');
    const got = await readFile(await download.path());
    const name = download.suggestedFilename();
    assert.match(name, /^reqlog-\d{8}-\d{6}\.csv$/, 'the file name is reqlog-YYYYMMDD-HHMMSS.csv');
    const res = await apiFetch(`/api/export?format=csv&${query}`);
    assert.equal(res.status, 200, 'GET /api/export answers 200');
    assert.match(res.headers.get('content-type') || '', /^text\/csv/, 'text/csv');
    const want = Buffer.from(await res.arrayBuffer());
    assert.ok(want.toString('utf8').startsWith('id,started_at,method,url,status,duration_ms,'), 'the CSV starts with its header row');
    assert.ok(got.equals(want), `downloaded ${got.length} bytes, API ${want.length} bytes: identical`);
    const lines = want.toString('utf8').split('\r\n').filter(Boolean).length;
    console.log(`  checked: export-csv (${href || 'button'}) downloaded ${name}, ${got.length} bytes, ${lines} lines, byte-identical to GET /api/export?format=csv&${query}`);
  });
});

test('live tail: a newly recorded call appears on top without dropping what was shown', async (t) => {
  await withPage(browser, t, async (page) => {
    const streams = []; // GET /api/stream requests the page made
    const streamStatus = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/stream') streams.push(r.url());
    });
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/stream') streamStatus.push(r.status());
    });
    await gotoList(page);
    const before = await rowIds(page);
    const topBefore = before[0];
    const toggle = page.locator(sel('live-toggle'));
    const isCheckbox = await toggle.evaluate((e) => e.tagName === 'INPUT' && e.type === 'checkbox');
    const wasOn = await isOn(toggle);
    if (isCheckbox) await toggle.check();
    else if (wasOn !== true) await toggle.click();
    const nowOn = await isOn(toggle);
    if (nowOn !== null) assert.equal(nowOn, true, 'live-toggle shows as on');
    await waitUntil(async () => streams.length > 0, T_UI, 'the page to open GET /api/stream');

    const note = `live-${Date.now()}`;
    const t0 = Date.now();
    const id = await recordCall('POST', '/echo', ['-d', JSON.stringify({ note })]);
    try {
      await page.waitForFunction(
        (want) => {
          const first = document.querySelector('[data-testid="request-row"]');
          return first && Number(first.getAttribute('data-id')) === want;
        },
        id,
        { timeout: T_LIVE },
      );
    } catch {
      const now = await rowIds(page);
      assert.fail(`row #${id} did not appear on top within ${T_LIVE} ms; rows now [${now.slice(0, 8).join(',')}…]`);
    }
    const ms = Date.now() - t0;
    assert.ok(streamStatus.every((c) => c === 200), `GET /api/stream answered 200 (${streamStatus.join(',')})`);
    const after = await rowIds(page);
    assert.ok(after.includes(topBefore), `the previous first row #${topBefore} is still listed`);
    assert.ok(after.indexOf(topBefore) > 0, 'and it is below the new row');
    const kept = before.filter((x) => after.includes(x));
    assert.deepEqual(after.filter((x) => before.includes(x)), kept, 'the rows shown before keep their order');
    console.log(`  checked: live-toggle on (${isCheckbox ? 'checkbox' : 'button'}, was ${wasOn}), ${streams[streams.length - 1].replace(BASE, '')}; recorded #${id} appeared on top after ${ms} ms; #${topBefore} still listed below it; order of the ${kept.length} earlier rows kept`);
  });
});

test('origin: the list shows where each call was recorded, and the origin filter narrows it', async (t) => {
  await withPage(browser, t, async (page, watch) => {
    const ORIGIN = 'ci-runner-<b>7</b>'; // seeded by run.sh: another origin than the demo's
    const all = await expectedIds();
    const mine = await expectedIds(`origin=${encodeURIComponent(ORIGIN)}`);
    assert.ok(mine.length > 0 && mine.length < all.length, `run.sh seeded calls of ${ORIGIN} among others`);
    await gotoList(page);
    // the rows come from two origins: the column is shown, as text
    const cell = page.locator(`${ROW}[data-id="${mine[0]}"] ${sel('row-origin')}`);
    await cell.waitFor({ state: 'visible' });
    assert.equal(await cell.textContent(), ORIGIN, 'the row shows its origin as text');
    assert.equal(await cell.locator('b').count(), 0, 'the origin is never markup');
    // the filter narrows the list to that origin's calls
    const input = page.locator(sel('filter-origin'));
    await input.fill(ORIGIN);
    await input.press('Enter');
    await waitForHash(page, () => new URLSearchParams(location.hash.replace(/^#\/?\??/, '')).get('origin') === 'ci-runner-<b>7</b>', 'origin=…');
    const ids = await waitRowsMatch(page, mine, `origin=${ORIGIN}`);
    assert.ok(ids.length < all.length, 'fewer rows than unfiltered');
    // one origin left: the column is hidden again; the detail view names it
    await cell.waitFor({ state: 'hidden' });
    await page.locator(`${ROW}[data-id="${mine[0]}"]`).click();
    await waitDetailLoaded(page);
    const shown = page.locator(`${sel('detail')} ${sel('detail-origin')}`);
    assert.equal(await shown.textContent(), ORIGIN, 'the detail view shows the origin');
    assert.deepEqual(watch.dialogs, [], 'no dialog opened');
    console.log(`  checked: Origin column shows "${ORIGIN}" as text among ${all.length} rows of 2 origins; origin filter → hash, ${ids.length} rows = API answer, column hidden for one origin; detail-origin shows it`);
  });
});
