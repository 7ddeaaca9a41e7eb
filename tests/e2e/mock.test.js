// Mock: what `reqlog mock` would serve for the current filters (GET /api/mock, the
// library's reqlog_mock_load), from the top bar's link: the counts, a row per request
// served linking to its call, and the command line with a copy button.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, sel, fileBrowser, withPage, gotoList, apiJson, waitForHash, hashParams, waitDetailLoaded,
} from './lib.js';

const shared = fileBrowser();

async function waitMock(page) {
  await page.locator(sel('mock')).waitFor({ state: 'visible' });
  await page.locator(sel('mock-summary')).waitFor({ state: 'visible' });
}

test('Mock lists what reqlog mock would serve, as the API says, and a row opens its call', async (t) => {
  const want = await apiJson('/api/mock');
  assert.ok(want.requests > 0 && want.calls.length === Math.min(want.requests, 200), 'the seeded history has calls to serve');
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoList(page);
    await page.locator(sel('mock-link')).click();
    await waitForHash(page, () => location.hash.startsWith('#/mock'), 'the mock view');
    await waitMock(page);
    const summary = page.locator(sel('mock-summary'));
    assert.equal(await summary.getAttribute('data-requests'), String(want.requests));
    assert.equal(await summary.getAttribute('data-recorded'), String(want.recorded));
    assert.equal(await page.locator(sel('mock-command')).textContent(), want.command);
    assert.equal(want.command, 'reqlog mock');
    const rows = await page.locator(sel('mock-row')).evaluateAll((rs) => rs.map((r) => ({
      id: Number(r.dataset.id), method: r.dataset.method, path: r.dataset.path, template: r.dataset.template, status: Number(r.dataset.status),
    })));
    assert.deepEqual(rows, want.calls.map((c) => ({ id: c.id, method: c.method, path: c.path, template: c.template, status: c.status })));

    // a row's link opens the call that answers
    const first = want.calls[0];
    await page.locator(sel('mock-call')).first().click();
    await waitForHash(page, () => location.hash.startsWith('#/requests/'), 'the call');
    await waitDetailLoaded(page);
    assert.ok(page.url().includes(`#/requests/${first.id}`), 'the detail of the answering call');
    assert.equal(await page.locator(sel('mock')).isVisible(), false, 'the mock view closed');
    assert.deepEqual(watch.dialogs, [], 'no dialog');
  });
});

test('Mock follows the list\'s filters; a hostile filter value stays text in the command', async (t) => {
  const want = await apiJson('/api/mock?status=4xx');
  assert.ok(want.calls.length > 0 && want.calls.every((c) => c.status >= 400 && c.status < 500));
  assert.equal(want.command, 'reqlog mock --status 4xx');
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoList(page, 'status=4xx');
    await page.locator(sel('mock-link')).click();
    await waitMock(page);
    assert.equal(hashParams(page.url().replace('#/mock', '#/')).get('status'), '4xx');
    assert.equal(await page.locator(sel('mock-row')).count(), want.calls.length);
    assert.equal(await page.locator(sel('mock-command')).textContent(), want.command);
    await page.locator(sel('mock-copy')).click();
    await page.locator(sel('mock-copy-note')).filter({ hasText: /Cop|Select/ }).waitFor();
    await page.keyboard.press('Escape');
    await page.locator(sel('mock')).waitFor({ state: 'hidden' });

    const hostile = "*<img src=x onerror=alert(9)>'$(id)*";
    const bad = await apiJson(`/api/mock?path=${encodeURIComponent(hostile)}`);
    assert.equal(bad.requests, 0);
    await page.goto(`${BASE}/#/mock?path=${encodeURIComponent(hostile)}`);
    await waitMock(page);
    await page.locator(sel('mock-none')).waitFor({ state: 'visible' });
    const cmd = await page.locator(sel('mock-command')).textContent();
    assert.equal(cmd, bad.command);
    assert.ok(cmd.startsWith("reqlog mock --path '*<img src=x onerror=alert(9)>'\\''$(id)*'"), cmd);
    const injected = await page.evaluate(() => document.querySelectorAll('img[src="x"], [onerror]').length);
    assert.equal(injected, 0, 'no element made from the value');
    assert.deepEqual(watch.dialogs, [], 'no dialog');
  });
});
