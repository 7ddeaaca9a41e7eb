// Recorded data that tries to become code: a binary HTML body offered as a download,
// and a method that would break out of the copied cURL command's quoting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BASE, REQLOG, DB, sel, launchBrowser, withPage, gotoDetail, apiJson, fullRow,
} from './lib.js';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
});

const MARK = 'reqlog-e2e-active-body-ran';

function run(file, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 15_000, ...opts }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

// Imports a HAR with one GET of PATH whose response is BODY (bytes) of type CTYPE,
// stored as binary (the bytes are not UTF-8); resolves with the new row's id.
async function importBinaryCall(urlPath, ctype, body) {
  assert.ok(REQLOG && DB, 'E2E_REQLOG and E2E_DB are set (run.sh)');
  const dir = mkdtempSync(path.join(tmpdir(), 'har-'));
  const file = path.join(dir, 'active.har');
  const har = {
    log: {
      version: '1.2',
      creator: { name: 'e2e', version: '1' },
      entries: [{
        startedDateTime: new Date().toISOString(),
        time: 3,
        request: { method: 'GET', url: `http://127.0.0.1:9${urlPath}`, httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
        response: {
          status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1',
          headers: [{ name: 'Content-Type', value: ctype }], cookies: [],
          content: { size: body.length, mimeType: ctype, text: body.toString('base64'), encoding: 'base64' },
          redirectURL: '', headersSize: -1, bodySize: body.length,
        },
        cache: {},
        timings: { send: 0, wait: 3, receive: 0 },
      }],
    },
  };
  writeFileSync(file, JSON.stringify(har));
  const r = await run(REQLOG, ['--db', DB, 'import', file]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0, `reqlog import: ${r.stderr}`);
  const j = await apiJson(`/api/requests?path=${encodeURIComponent(urlPath)}&limit=1`);
  assert.equal(j.items.length, 1, `the imported call ${urlPath} is listed`);
  const row = await fullRow(j.items[0].id);
  assert.equal(row.content_type, ctype);
  assert.equal(typeof row.response_body?.base64, 'string', 'the body is stored as binary');
  return row.id;
}

test('a recorded binary text/html body downloads as octet-stream and never runs in the origin', async (t) => {
  // invalid UTF-8 (0xff 0xfe) makes the body binary; the script would mark localStorage,
  // which the blob: document would share with the dashboard
  const html = Buffer.concat([
    Buffer.from('<!doctype html><html><head><title>active</title></head><body>'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(`<script>localStorage.setItem('${MARK}','1');document.title='ran';</script></body></html>`),
  ]);
  const id = await importBinaryCall(`/e2e-active-${Date.now()}.html`, 'text/html', html);
  await withPage(browser, t, async (page, watch, context) => {
    await gotoDetail(page, id);
    const link = page.locator(`${sel('response-body')} a[download]`);
    await link.waitFor({ state: 'visible' });
    const href = await link.getAttribute('href');
    const name = (await link.getAttribute('download')) || '';
    // the page's CSP keeps fetch() off blob: URLs: read the blob's type from a blank page
    // of the same origin (served by the test, not the dashboard)
    const probe = await context.newPage();
    await probe.route(`${BASE}/__e2e_probe`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>probe</title>' }));
    await probe.goto(`${BASE}/__e2e_probe`);
    const type = await probe.evaluate(async (u) => (await (await fetch(u)).blob()).type, href);
    await probe.close();
    assert.equal(type, 'application/octet-stream', `the download's blob type (was the recorded ${'text/html'})`);
    assert.doesNotMatch(name, /\.(html?|xhtml|svg|xml|js|mjs|mht(ml)?|shtml)$/i, `file name ${name} has no active extension`);

    // the click gives a file, named as the attribute says
    const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(dl.suggestedFilename(), name);

    // navigating a tab to the blob: URL must not render it (and so not run its script)
    const tab = await context.newPage();
    let rendered = null;
    try {
      await tab.goto(href, { timeout: 10_000 });
      rendered = await tab.evaluate(() => ({ type: document.contentType, title: document.title }));
    } catch (e) {
      // "Download is starting": the browser saved it instead of rendering it
      assert.match(String(e.message), /download/i, `navigation to the blob: ${e.message}`);
    }
    await tab.close();
    await page.evaluate(() => new Promise((res) => setTimeout(res, 200)));
    const ran = await page.evaluate((k) => localStorage.getItem(k), MARK);
    assert.equal(ran, null, 'the recorded script did not run in the dashboard origin');
    assert.ok(rendered === null || rendered.type !== 'text/html', `the blob was not rendered as HTML: ${JSON.stringify(rendered)}`);
    assert.deepEqual(watch.dialogs, []);
    console.log(`  checked: #${id} (text/html, binary) download link: blob type ${type}, file ${name}; ` +
      `a tab sent to the blob: ${rendered ? `rendered ${rendered.type}` : 'download, not rendered'}; the script's mark is absent`);
  });
});

test('copy as cURL quotes the method: a recorded shell payload stays one argument', async (t) => {
  const method = "GET|touch$IFS'x'|";
  const url = `http://127.0.0.1:9/e2e-method-${Date.now()}`;
  const sql = "INSERT INTO calls(started_at, method, url, host, path, status, duration_us, source) " +
    `VALUES (strftime('%s','now') * 1000000, '${method.replace(/'/g, "''")}', '${url}', '127.0.0.1', ` +
    `'${new URL(url).pathname}', 200, 1000, 'import')`;
  const ins = await run('sqlite3', [DB, sql]);
  assert.equal(ins.code, 0, `sqlite3: ${ins.stderr}`);
  const j = await apiJson(`/api/requests?path=${encodeURIComponent(new URL(url).pathname)}&limit=1`);
  assert.equal(j.items.length, 1, 'the inserted row is listed');
  const id = j.items[0].id;
  assert.equal(j.items[0].method, method);

  await withPage(browser, t, async (page) => {
    await gotoDetail(page, id);
    await page.locator(sel('copy-curl')).click();
    const out = page.locator(sel('curl-text'));
    await out.waitFor({ state: 'visible' });
    const cmd = (await out.textContent()) || '';

    // run it with sh, with a `curl` that only writes its arguments (NUL-separated)
    const dir = mkdtempSync(path.join(tmpdir(), 'curl-'));
    try {
      const bin = path.join(dir, 'bin');
      const work = path.join(dir, 'work');
      const args = path.join(dir, 'args');
      for (const d of [bin, work]) rmSync(d, { recursive: true, force: true });
      await run('mkdir', ['-p', bin, work]);
      writeFileSync(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\0' "$@" > '${args}'\n`);
      chmodSync(path.join(bin, 'curl'), 0o755);
      const r = await run('/bin/sh', ['-c', cmd], {
        cwd: work,
        env: { PATH: `${bin}:/usr/bin:/bin`, REQLOG_API_KEY: 'k' },
      });
      const made = readdirSync(work);
      assert.deepEqual(made, [], `running the copied command created no file (sh said: ${r.stderr.trim()})`);
      const argv = readFileSync(args, 'utf8').split('\0').slice(0, -1);
      assert.equal(argv[0], '-X');
      assert.equal(argv[1], method, 'the method arrived as one argument, unchanged');
      assert.equal(argv[2], url);
      console.log(`  checked: #${id} method ${method}: the copied command run by sh gave curl ${JSON.stringify(argv.slice(0, 3))}, no file created`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
