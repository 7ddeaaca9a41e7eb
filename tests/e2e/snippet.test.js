// "Copy as" in the detail: every language's code is the server's (GET
// /api/requests/ID/snippet?lang=L, the library's one implementation, which
// tests/integration/test_snippet.c runs), shown as text, with the key left to
// $REQLOG_API_KEY and neither the key nor its fingerprint in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_KEY, T_UI, sel, fileBrowser, withPage, gotoDetail, apiJson, apiFetch, firstRow,
} from './lib.js';

const shared = fileBrowser();

const LANGS = {
  curl: '$REQLOG_API_KEY',
  python: 'os.environ["REQLOG_API_KEY"]',
  node: 'process.env.REQLOG_API_KEY',
  php: "getenv('REQLOG_API_KEY')",
  httpie: '$REQLOG_API_KEY',
  go: 'os.Getenv("REQLOG_API_KEY")',
};

test('Copy as: each language shows the server\'s code for the call', async (t) => {
  const row = await firstRow('status=422');
  assert.ok(row.key, 'the call was made with a key');
  const hash = row.key.split('#').pop();
  await withPage(shared.browser, t, async (page, watch) => {
    await gotoDetail(page, row.id);
    for (const [lang, keyRef] of Object.entries(LANGS)) {
      const want = (await apiJson(`/api/requests/${row.id}/snippet?lang=${lang}`)).code;
      await page.locator(sel('snippet-lang')).selectOption(lang);
      await page.locator(sel('copy-curl')).click();
      const out = page.locator(sel('curl-text'));
      await page.waitForFunction((l) => document.querySelector('[data-testid="curl-text"]')?.dataset.lang === l && !document.querySelector('[data-testid="curl-text"]').hidden, lang, { timeout: T_UI });
      const text = await out.textContent();
      assert.equal(text, want, `${lang}: the page shows the server's code`);
      assert.ok(text.includes(keyRef), `${lang}: the key is read from the environment (${keyRef})`);
      assert.ok(!text.includes(API_KEY) && !text.includes(row.key) && !text.includes(hash), `${lang}: no key, no fingerprint`);
      assert.ok(text.includes(row.url), `${lang}: the URL is in it`);
    }
    assert.deepEqual(watch.pageErrors, []);
  });
  const bad = await apiFetch(`/api/requests/${row.id}/snippet?lang=cobol`);
  assert.equal(bad.status, 400);
  assert.ok((await bad.json()).errors.lang, 'the 400 names lang');
  assert.equal((await apiFetch(`/api/requests/${row.id}/snippet`)).status, 400, 'lang is required');
});
