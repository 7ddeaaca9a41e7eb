// The page under its Content-Security-Policy: a tour of every view must not make the
// browser report a single CSP violation (no inline script or style anywhere).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, ROW, sel, launchBrowser, withPage, gotoList, gotoDetail, firstRow, waitRowsMatch,
  expectedIds,
} from './lib.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
});

test('no CSP violations in the console across list, filters, detail, stats and live tail', async (t) => {
  await withPage(browser, t, async (page, watch) => {
    const violations = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violation (event): ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const resp = await page.goto(`${BASE}/#/`);
    const csp = resp.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, `the page is served with a CSP: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'the CSP allows no inline script or eval');
    await page.locator(ROW).first().waitFor({ state: 'visible' });
    const views = ['list'];

    await page.locator(`${sel('filter-status-class')}[data-value="4xx"]`).click();
    await waitRowsMatch(page, await expectedIds('status=4xx'), 'status=4xx');
    views.push('status chip');

    const r422 = await firstRow('status=422');
    await gotoDetail(page, r422.id);
    await page.locator(sel('errors-table')).waitFor({ state: 'visible' });
    views.push(`detail #${r422.id}`);
    const raw = page.locator(sel('raw-toggle'));
    if (await raw.count()) {
      await raw.first().click();
      views.push('raw toggle');
    }

    if (process.env.E2E_XSS_ID) {
      await gotoDetail(page, process.env.E2E_XSS_ID);
      await page.locator(sel('request-body')).waitFor({ state: 'visible' });
      views.push(`XSS detail #${process.env.E2E_XSS_ID}`);
    }

    await gotoList(page);
    const stats = page.locator(sel('stats'));
    if (await stats.count()) {
      await stats.first().waitFor({ state: 'visible' });
      const chart = page.locator(`${sel('rpm-chart')}`);
      if (await chart.count()) await chart.first().waitFor({ state: 'attached' });
      views.push('stats');
    }
    const live = page.locator(sel('live-toggle'));
    if (await live.count()) {
      await live.first().click();
      views.push('live toggle');
    }
    // one more round trip so late reports arrive before judging
    await page.evaluate(() => fetch('/api/stats').then((r) => r.text()));
    await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0))));

    violations.push(...watch.csp);
    assert.deepEqual(violations, [], 'no console message mentions the Content Security Policy');
    assert.deepEqual(watch.pageErrors, [], 'no uncaught exception in the page');
    console.log(`  checked: CSP header "${csp}"; visited ${views.join(', ')}: 0 CSP messages, 0 page errors`);
  });
});

test('the dashboard refuses to be framed and marks its responses nosniff', async (t) => {
  const res = await fetch(`${BASE}/`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'index.html has no inline <script>');
  assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, 'index.html has no inline style or handler');
  console.log('  checked: GET / → X-Frame-Options DENY, nosniff, frame-ancestors none; index.html without inline script/style/handlers');
});
