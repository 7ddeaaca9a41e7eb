// The detail view: opening a call, the timing bar, 422 field errors, copy as cURL,
// and a recorded XSS payload that must stay text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, API_KEY, ROW, sel, launchBrowser, withPage, gotoList, gotoDetail, waitDetailLoaded, firstRow, fullRow,
  apiJson, waitForHash, rowIds,
} from './lib.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
});

test('clicking a row opens its detail at #/requests/ID with the same status', async (t) => {
  await withPage(browser, t, async (page) => {
    await gotoList(page);
    const rows = page.locator(ROW);
    const statuses = await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-status')));
    // a 4xx row if there is one on screen, else any row with a status
    let i = statuses.findIndex((s) => /^4\d\d$/.test(s || ''));
    if (i < 0) i = statuses.findIndex((s) => /^\d{3}$/.test(s || ''));
    assert.ok(i >= 0, 'a listed row has a numeric data-status');
    const row = rows.nth(i);
    const id = Number(await row.getAttribute('data-id'));
    const status = statuses[i];
    await row.click();
    await waitDetailLoaded(page);
    await waitForHash(page, () => /^#\/requests\/\d+$/.test(location.hash), '#/requests/ID');
    assert.equal(new URL(page.url()).hash, `#/requests/${id}`, 'the URL names the clicked call');
    const shown = (await page.locator(sel('detail-status')).textContent()) || '';
    assert.match(shown, new RegExp(`\\b${status}\\b`), `detail-status "${shown.trim()}" shows ${status}`);
    const api = await fullRow(id);
    assert.equal(String(api.status), status, 'data-status agrees with GET /api/requests/ID');
    const detailText = (await page.locator(sel('detail')).textContent()) || '';
    assert.ok(detailText.includes(api.path), `the detail shows the path ${api.path}`);
    // closing returns to the list
    await page.locator(sel('detail-close')).click();
    await page.locator(sel('detail')).waitFor({ state: 'hidden' });
    await waitForHash(page, () => !/^#\/requests\//.test(location.hash), 'the list route after detail-close');
    console.log(`  checked: clicked row #${id} (data-status ${status}) → ${'#/requests/' + id}, detail-status "${shown.trim()}", path shown; detail-close → ${new URL(page.url()).hash || '(no hash)'}`);
  });
});

test('a call opened by URL shows its timing bar with the phase segments', async (t) => {
  await withPage(browser, t, async (page) => {
    const slow = await firstRow('path=%2Fpublic%2Fv1%2Fslow');
    const row = await fullRow(slow.id);
    await gotoDetail(page, row.id);
    const bar = page.locator(sel('timing-bar'));
    await bar.waitFor({ state: 'visible' });
    const segs = await bar.locator('[data-phase]').evaluateAll((es) =>
      es.map((e) => ({ phase: e.getAttribute('data-phase'), w: e.getBoundingClientRect().width })),
    );
    const allowed = ['queued', 'dns', 'connect', 'tls', 'ttfb', 'download'];
    assert.ok(segs.length > 0, 'the timing bar has data-phase segments');
    for (const s of segs) assert.ok(allowed.includes(s.phase), `data-phase "${s.phase}" is one of ${allowed.join('|')}`);
    const phases = segs.map((s) => s.phase);
    assert.equal(new Set(phases).size, phases.length, 'each phase appears once');
    const tm = row.timing;
    const need = ['queued', 'dns', 'connect', 'tls', 'ttfb'].filter((p) => tm[`${p}_ms`] > 0);
    for (const p of need) assert.ok(phases.includes(p), `phase ${p} (${tm[`${p}_ms`]} ms) has a segment`);
    // order of the phases as they happen
    const order = phases.map((p) => allowed.indexOf(p));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'segments are in phase order');
    const ttfb = segs.find((s) => s.phase === 'ttfb');
    assert.ok(ttfb && ttfb.w > 0, `the ttfb segment of a ${tm.ttfb_ms} ms wait has a width`);
    console.log(`  checked: #${row.id} (${row.path}, ttfb ${tm.ttfb_ms} ms) timing-bar segments ${segs.map((s) => `${s.phase}:${Math.round(s.w)}px`).join(' ')}; required ${need.join(',')}`);
  });
});

test('a 422 call lists its field errors in the errors table', async (t) => {
  await withPage(browser, t, async (page) => {
    const r = await fullRow((await firstRow('status=422')).id);
    const fields = Object.keys(r.error_fields || {});
    assert.ok(fields.length > 0, 'the seeded 422 has error_fields');
    await gotoDetail(page, r.id);
    const table = page.locator(sel('errors-table'));
    await table.waitFor({ state: 'visible' });
    const rows = await table.locator('[data-field]').evaluateAll((es) =>
      es.map((e) => ({ field: e.getAttribute('data-field'), text: e.textContent })),
    );
    assert.deepEqual(rows.map((x) => x.field).sort(), [...fields].sort(), 'one errors-table row per field');
    for (const f of fields) {
      const text = rows.find((x) => x.field === f).text;
      assert.ok(text.includes(f), `row ${f} names the field`);
      for (const msg of r.error_fields[f]) assert.ok(text.includes(msg), `row ${f} shows "${msg}"`);
    }
    const status = (await page.locator(sel('detail-status')).textContent()) || '';
    assert.match(status, /\b422\b/, 'detail-status shows 422');
    console.log(`  checked: #${r.id} errors-table rows [${rows.map((x) => x.field).join(', ')}] with their messages, as error_fields of GET /api/requests/${r.id}`);
  });
});

test('copy as cURL gives a command with $REQLOG_API_KEY and no key or fingerprint', async (t) => {
  await withPage(browser, t, async (page, watch, context) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    const r = await fullRow((await firstRow('status=422')).id);
    await gotoDetail(page, r.id);
    await page.locator(sel('copy-curl')).click();
    const out = page.locator(sel('curl-text'));
    await out.waitFor({ state: 'visible' });
    const text = (await out.evaluate((e) => ('value' in e && typeof e.value === 'string' && e.value) || e.textContent)) || '';
    assert.match(text, /^\s*curl\b/, 'the command starts with curl');
    assert.ok(text.includes('$REQLOG_API_KEY'), 'the key is written as $REQLOG_API_KEY');
    assert.ok(!text.includes(API_KEY), 'the real key is absent');
    assert.ok(r.key, 'the call has a key fingerprint');
    const hash = r.key.split('#').pop();
    assert.ok(!text.includes(r.key) && !text.includes(hash), `the fingerprint ${r.key} is absent`);
    assert.ok(text.includes(r.url), `the URL ${r.url} is in the command`);
    assert.ok(/POST/.test(text), 'the method POST is in the command');
    let clip = null;
    try {
      clip = await page.evaluate(() => navigator.clipboard.readText());
    } catch {
      clip = null;
    }
    if (clip) assert.equal(clip.trim(), text.trim(), 'the clipboard holds the same command');
    console.log(`  checked: #${r.id} curl-text (${text.length} chars) has curl, POST, ${r.url}, $REQLOG_API_KEY; no key, no fingerprint ${r.key}; clipboard ${clip ? 'equal' : 'not readable'}`);
  });
});

// The id of the seeded call whose request body holds the XSS payload.
async function xssId() {
  if (process.env.E2E_XSS_ID) return Number(process.env.E2E_XSS_ID);
  const j = await apiJson('/api/requests?path=echo&limit=500');
  for (const it of j.items) {
    const r = await fullRow(it.id);
    if ((r.request_body || '').includes('<script>')) return r.id;
  }
  assert.fail('no recorded call with an XSS payload: run through run.sh');
}

// Script and img elements in the document that the page itself did not ship.
function foreignElements(page) {
  return page.evaluate((origin) => {
    const bad = [];
    for (const s of document.querySelectorAll('script')) {
      const src = s.getAttribute('src');
      if (!src || !new URL(src, location.href).href.startsWith(origin + '/')) bad.push(s.outerHTML.slice(0, 120));
    }
    for (const i of document.querySelectorAll('img[src="x"], [onerror], [onload]')) bad.push(i.outerHTML.slice(0, 120));
    return bad;
  }, BASE);
}

test('an XSS payload in a recorded body and header is shown as text, never run', async (t) => {
  await withPage(browser, t, async (page, watch) => {
    const id = await xssId();
    const r = await fullRow(id);
    // the list first (the payload call is among the newest rows), then the detail
    await gotoList(page);
    assert.ok((await rowIds(page)).length > 0, 'the list renders');
    await gotoDetail(page, id);
    const body = page.locator(sel('request-body'));
    await body.waitFor({ state: 'visible' });
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="request-body"]')?.textContent || '').trim() !== '',
      null,
      { timeout: 10_000 },
    );
    const text = (await body.textContent()) || '';
    assert.ok(text.includes('<script>alert(2)</script>'), 'request-body text contains "<script>alert(2)</script>" as text');
    assert.ok(text.includes('<img src=x onerror=alert(1)>'), 'request-body text contains the <img onerror> as text');
    const inBody = await body.evaluate((e) => e.querySelectorAll('script, img, iframe, object, embed').length);
    assert.equal(inBody, 0, 'no element was made from the body');
    const hdrs = (await page.locator(sel('request-headers')).textContent()) || '';
    const hdrPayload = (r.request_headers || []).find(([n]) => n.toLowerCase() === 'x-note');
    if (hdrPayload) assert.ok(hdrs.includes(hdrPayload[1]), 'the X-Note header payload is shown as text');
    const resp = (await page.locator(sel('response-body')).textContent()) || '';
    assert.ok(resp.includes('<script>'), 'response-body (the echo) also shows <script> as text');
    // let any queued event (an img error, a microtask) run before judging
    await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(res, 0)))));
    assert.deepEqual(await foreignElements(page), [], 'no script/img/handler element came from recorded data');
    assert.deepEqual(watch.dialogs, [], 'no dialog was opened');
    assert.deepEqual(watch.csp, [], 'no CSP violation was reported');
    console.log(`  checked: #${id} request-body shows <img onerror>/<script> as text, ${hdrPayload ? 'X-Note header as text, ' : ''}response-body too; no foreign <script>/<img>/handlers in the DOM, 0 dialogs, 0 CSP messages`);
  });
});
