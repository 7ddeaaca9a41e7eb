// Shared helpers of the dashboard end-to-end tests: the environment run.sh sets up,
// the browser, one fresh context per test, the JSON API as the oracle, and waits.
// Everything the tests rely on in the page is a data-testid hook of web/API.md.
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through tests/e2e/run.sh BUILD_DIR`);
  return v;
}

export const BASE = need('E2E_BASE_URL').replace(/\/+$/, ''); // http://127.0.0.1:PORT
export const REQLOG = process.env.E2E_REQLOG || ''; // BUILD_DIR/reqlog
export const DB = process.env.E2E_DB || '';
export const API_URL = process.env.E2E_API_URL || ''; // the fake API's base URL
export const API_KEY = process.env.E2E_API_KEY || 'sk_test_4f9a2c7e1b8d6053alpha';
export const SHOTS = process.env.E2E_SCREENSHOTS || '';
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

// Bounded waits (ms): every wait in the suite ends by one of these.
export const T_UI = 10_000;
export const T_LIVE = 10_000;

export const CSP_RE = /Content[- ]Security[- ]Policy/i;

// Debian's Chromium as the machine notes say; Playwright's launch() gives it a fresh,
// empty profile (user-data-dir) under TMPDIR, which run.sh points into its temp dir.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// One browser for a test file, launched before its tests and closed after them: the
// holder's .it is the browser.
export function fileBrowser() {
  const holder = { it: null };
  before(async () => {
    holder.it = await launchBrowser();
  });
  after(async () => {
    if (holder.it) await holder.it.close();
  });
  return holder;
}

// What a page did that it never should: dialogs (alert/confirm/prompt), console
// messages about the Content-Security-Policy, uncaught exceptions.
export function watchPage(page) {
  const w = { dialogs: [], csp: [], pageErrors: [], consoleErrors: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    const text = m.text();
    if (CSP_RE.test(text)) w.csp.push(`${m.type()}: ${text}`);
    if (m.type() === 'error') w.consoleErrors.push(text);
  });
  page.on('pageerror', (e) => w.pageErrors.push(String(e && e.message ? e.message : e)));
  return w;
}

function shotName(name) {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 100) || 'test';
}

// Runs FN(page, watch, context) in a fresh browser context; on failure saves a
// screenshot into E2E_SCREENSHOTS and prints what the page logged, then rethrows.
export async function withPage(browser, t, fn, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport || { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(T_UI);
  page.setDefaultNavigationTimeout(15_000);
  const watch = watchPage(page);
  try {
    await fn(page, watch, context);
  } catch (err) {
    if (SHOTS) {
      try {
        mkdirSync(SHOTS, { recursive: true });
        const file = path.join(SHOTS, `${shotName(t.name)}.png`);
        await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
        console.log(`  screenshot: ${file}`);
      } catch (e) {
        console.log(`  (no screenshot: ${e.message.split('\n')[0]})`);
      }
    }
    console.log(`  url at failure: ${page.url()}`);
    for (const e of watch.pageErrors) console.log(`  page error: ${e}`);
    for (const e of watch.consoleErrors) console.log(`  console error: ${e}`);
    throw err;
  } finally {
    for (const c of watch.csp) console.log(`  CSP message seen: ${c}`);
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- the JSON API

export async function apiFetch(pathAndQuery) {
  const res = await fetch(BASE + pathAndQuery, { signal: AbortSignal.timeout(T_UI) });
  return res;
}

export async function apiJson(pathAndQuery) {
  const res = await apiFetch(pathAndQuery);
  const body = await res.text();
  assert.equal(res.status, 200, `GET ${pathAndQuery} → ${res.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body);
}

// Ids of the newest rows matching QUERY (a query string without '?'), newest first.
export async function expectedIds(query = '') {
  const q = query ? `${query}&limit=500` : 'limit=500';
  const j = await apiJson(`/api/requests?${q}`);
  assert.ok(Array.isArray(j.items), 'list answer has items[]');
  return j.items.map((r) => r.id);
}

export async function firstRow(query) {
  const j = await apiJson(`/api/requests?${query}&limit=1`);
  assert.ok(j.items.length > 0, `the seeded database has a row for ${query}`);
  return j.items[0];
}

export async function fullRow(id) {
  return apiJson(`/api/requests/${id}`);
}

// ---------------------------------------------------------------- the page

export const sel = (id) => `[data-testid="${id}"]`;
export const ROW = sel('request-row');

export async function gotoList(page, query = '') {
  await page.goto(`${BASE}/#/${query ? `?${query}` : ''}`);
  await page.locator(ROW).first().waitFor({ state: 'visible' });
}

// Opens #/requests/ID and waits until the call is rendered (its detail-status shows a
// text), so that clicks do not land on a placeholder that is replaced afterwards.
export async function gotoDetail(page, id) {
  await page.goto(`${BASE}/#/requests/${id}`);
  await waitDetailLoaded(page);
}

export async function waitDetailLoaded(page) {
  await page.locator(sel('detail')).waitFor({ state: 'visible' });
  await page.locator(`${sel('detail')} ${sel('detail-status')}`).waitFor({ state: 'visible' });
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="detail"] [data-testid="detail-status"]')?.textContent || '').trim() !== '',
    null,
    { timeout: T_UI },
  );
}

export async function rowIds(page) {
  return page.$$eval(ROW, (rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
}

export async function rowStatuses(page) {
  return page.$$eval(ROW, (rows) => rows.map((r) => r.getAttribute('data-status')));
}

// Waits until the listed rows are a non-empty prefix of EXPECTED (the API's answer for
// the same filter, newest first): the page shows exactly the matching calls in order,
// whatever its page size.
export async function waitRowsMatch(page, expected, what) {
  assert.ok(expected.length > 0, `the API has rows for ${what}`);
  try {
    await page.waitForFunction(
      (exp) => {
        const ids = [...document.querySelectorAll('[data-testid="request-row"]')].map((r) =>
          Number(r.getAttribute('data-id')),
        );
        return ids.length > 0 && ids.length <= exp.length && ids.every((id, i) => id === exp[i]);
      },
      expected,
      { timeout: T_UI },
    );
  } catch (e) {
    const got = await rowIds(page).catch(() => []);
    assert.fail(
      `rows for ${what}: expected a prefix of [${expected.slice(0, 12).join(',')}…] ` +
        `(${expected.length} in the API), page shows [${got.slice(0, 12).join(',')}${got.length > 12 ? '…' : ''}] ` +
        `(${got.length}) — ${e.message.split('\n')[0]}`,
    );
  }
  return rowIds(page);
}

// The list filter held in the URL: "#/?status=4xx&path=x" → URLSearchParams (or null).
export function hashParams(url) {
  const h = new URL(url).hash;
  const m = /^#\/?(?:\?(.*))?$/.exec(h);
  if (!m) return null;
  return new URLSearchParams(m[1] || '');
}

export function statusValues(params) {
  return params
    .getAll('status')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function waitForHash(page, pred, what) {
  try {
    await page.waitForFunction(pred, null, { timeout: T_UI });
  } catch {
    assert.fail(`URL for ${what}: got ${page.url()}`);
  }
}

// True/false when the element shows a pressed/checked/selected state, null when it
// shows none the test can read (the contract does not fix how a chip marks itself).
export async function isOn(locator) {
  return locator.evaluate((e) => {
    if (e.tagName === 'INPUT' && (e.type === 'checkbox' || e.type === 'radio')) return e.checked;
    for (const a of ['aria-pressed', 'aria-checked', 'aria-selected', 'data-active', 'data-selected']) {
      const v = e.getAttribute(a);
      if (v !== null) return v === 'true' || v === '';
    }
    const input = e.querySelector('input[type=checkbox],input[type=radio]');
    if (input) return input.checked;
    if (/(^|[\s_-])(active|selected|on|checked)($|[\s_-])/.test(e.className || '')) return true;
    return null;
  });
}

// Polls FN (async, true when done) every 50 ms for at most TIMEOUT ms.
export async function waitUntil(fn, timeout, what) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) assert.fail(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- recording

// `reqlog call METHOD PATH [ARGS]` against the fake API into the served database;
// resolves with the new row's id (from "recorded as #ID" on stderr).
export function recordCall(method, apiPath, args = []) {
  assert.ok(REQLOG && DB && API_URL, 'E2E_REQLOG, E2E_DB and E2E_API_URL are set (run.sh)');
  return new Promise((resolve, reject) => {
    execFile(
      REQLOG,
      ['--db', DB, 'call', method, apiPath, ...args],
      {
        timeout: 15_000,
        env: {
          ...process.env,
          REQLOG_BASE_URL: API_URL,
          REQLOG_API_KEY: API_KEY,
          REQLOG_RATE: '0',
        },
      },
      (err, stdout, stderr) => {
        const m = /recorded as #(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
        else reject(new Error(`reqlog call ${method} ${apiPath} recorded nothing: ${err ? err.message : ''} ${stderr}`));
      },
    );
  });
}
