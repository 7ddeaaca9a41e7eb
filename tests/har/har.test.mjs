// HAR checks of reqlog with tools from outside it: every HAR `reqlog export --format har`
// writes is validated by the npm har-validator package (HAR 1.2 schema) plus the timing
// rules HAR states in prose; and a HAR that Playwright recorded while headless Chromium
// loaded a local page is imported with `reqlog import`, row for row, with no secret kept.
// Run through tests/har/run.sh BUILD_DIR, which sets the environment below.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const harValidator = require('har-validator');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through tests/har/run.sh BUILD_DIR`);
  return v;
}
const REQLOG = need('HAR_REQLOG');
const API_URL = need('HAR_API_URL'); // reqlog-testapi's base URL, .../public/v1
const TMP = need('HAR_TMP');
const CHROMIUM = process.env.HAR_CHROMIUM || '/usr/bin/chromium';
const KEY = 'sk_test_4f9a2c7e1b8d6053alpha';

// Secrets the Playwright page sends and receives; none may reach reqlog's files.
const S = {
  bearer: 'pw_live_BEARER_7c1e9a44d2b80f31',
  cookie: 'pwCOOKIE_5b2f8e1d9c',
  query: 'pwQUERY_tok_3e8d1a6b',
  password: 'pwPASSWORD_hunter2_91f0',
  respToken: 'pwRESP_token_0a9b8c7d',
};

// Runs reqlog with ARGS; resolves {code, stdout, stderr}.
function reqlog(args, env = {}) {
  return new Promise((resolve) => {
    execFile(REQLOG, args, { env: { ...process.env, ...env }, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

async function ok(args, env) {
  const r = await reqlog(args, env);
  assert.equal(r.code, 0, `reqlog ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

// har-validator's schema check, then what HAR 1.2 says in prose and the schema does not
// enforce ("min" is not a JSON-schema keyword): send, wait, receive >= 0; other phases
// >= -1; time >= 0 and the sum of the phases that apply (ssl is inside connect).
async function validate(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  try {
    await harValidator.har(doc);
  } catch (e) {
    const errs = e && e.errors ? JSON.stringify(e.errors.slice(0, 5), null, 1) : String(e);
    assert.fail(`${path.basename(file)} is not valid HAR 1.2: ${errs}`);
  }
  assert.equal(doc.log.version, '1.2');
  assert.equal(doc.log.creator.name, 'reqlog');
  doc.log.entries.forEach((e, i) => {
    const t = e.timings;
    for (const k of ['send', 'wait', 'receive']) assert.ok(t[k] >= 0, `entry ${i}: ${k} ${t[k]}`);
    for (const k of ['blocked', 'dns', 'connect', 'ssl']) assert.ok(t[k] >= -1, `entry ${i}: ${k}`);
    const sum = ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']
      .reduce((s, k) => s + (t[k] > 0 ? t[k] : 0), 0);
    assert.ok(e.time >= 0 && Math.abs(e.time - sum) < 0.002, `entry ${i}: time ${e.time} vs ${sum}`);
    assert.ok(Number.isInteger(e.response.content.size), `entry ${i}: content.size`);
  });
  return doc;
}

async function rowCount(db, filters = []) {
  const r = await ok(['--db', db, 'list', '--json', '--limit', '0', ...filters]);
  return JSON.parse(r.stdout).length;
}

// ------------------------------------------------------------------ export

const hist = path.join(TMP, 'history.db');

test('a recorded history exports as valid HAR 1.2', async (t) => {
  // the demo's mix (every status class, 422s, 429s, retries, redirects, binary, gzip,
  // a dropped connection, a body past the cap) plus calls with a binary request body,
  // a query token and an HTTP error body
  await ok(['--db', hist, 'demo']);
  const env = { REQLOG_BASE_URL: API_URL, REQLOG_API_KEY: KEY, REQLOG_RATE: '0' };
  const bin = path.join(TMP, 'body.bin');
  writeFileSync(bin, Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x00, 0x41]));
  await reqlog(['--db', hist, 'call', 'POST', '/echo', '-H', 'Content-Type: application/octet-stream',
    '-d', `@${bin}`], env);
  await reqlog(['--db', hist, 'call', 'GET', `/echo?access_token=${S.query}&q=a%20b`], env);
  await reqlog(['--db', hist, 'call', 'POST', '/participants', '-d', '{"email":"x"}'], env);

  const rows = await rowCount(hist);
  const cases = [
    ['all', []],
    ['4xx', ['--status', '4xx']],
    ['errors', ['--status', 'error']],
    ['none', ['--status', '599']],
  ];
  for (const [name, filters] of cases) {
    const file = path.join(TMP, `export-${name}.har`);
    await ok(['--db', hist, 'export', '--format', 'har', ...filters, '-o', file]);
    const doc = await validate(file);
    assert.equal(doc.log.entries.length, await rowCount(hist, filters), `${name}: one entry per row`);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(KEY) && !text.includes(S.query), `${name}: a secret in the export`);
    t.diagnostic(`checked: export ${name} (${doc.log.entries.length} entries) is valid HAR 1.2`);
  }
  const all = JSON.parse(readFileSync(path.join(TMP, 'export-all.har'), 'utf8')).log.entries;
  assert.equal(all.length, rows);
  assert.ok(all.some((e) => e.request.postData && e.request.postData._encoding === 'base64'));
  assert.ok(all.some((e) => e.response.content.encoding === 'base64'));
  assert.ok(all.some((e) => e.response.status === 0 && e._reqlog.error));
  assert.ok(all.some((e) => e._reqlog.retry_of !== null));
  assert.ok(all.some((e) => e._reqlog.response_truncated));
  // stdout gives the same document as -o
  const r = await ok(['--db', hist, 'export', '--format', 'har']);
  assert.equal(r.stdout, readFileSync(path.join(TMP, 'export-all.har'), 'utf8'));
});

// ------------------------------------------------------------------ Playwright

// A tiny site: a page that sets a session cookie and loads a stylesheet, an image and a
// script. The script gets its secrets from a session endpoint (under JSON keys reqlog
// redacts, as an app would get them; never in its own source, which reqlog stores as a
// plain body) and calls a JSON API with a bearer key, a query token and a login body.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64');
const PAGE = `<!doctype html><html><head><title>loading</title>
<link rel="stylesheet" href="/site.css"></head>
<body><h1>reqlog HAR test</h1><img src="/logo.png" alt="logo"><script src="/app.js"></script>
</body></html>`;
const APP = `(async () => {
  // every body read to its end, so the browser has it when the HAR is written
  const get = async (url, init) => (await fetch(url, init)).text();
  const s = JSON.parse(await get('/api/session'));
  const auth = { Authorization: 'Bearer ' + s.token, Accept: 'application/json' };
  await get('/api/participants', { headers: auth });
  await get('/api/participants?access_token=' + s.api_key + '&page=2',
    { headers: { Accept: 'application/json' } });
  await get('/api/login', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.org', password: s.password }) });
  await get('/api/missing', { headers: auth });
  document.title = 'done';
})();`;

function site() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8',
        'Set-Cookie': `session=${S.cookie}; Path=/; HttpOnly` });
      res.end(PAGE);
    } else if (url.pathname === '/site.css') {
      res.writeHead(200, { 'Content-Type': 'text/css' });
      res.end('h1 { color: #336; }\n');
    } else if (url.pathname === '/logo.png') {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(PNG);
    } else if (url.pathname === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(APP);
    } else if (url.pathname === '/api/session') {
      json(200, { token: S.bearer, api_key: S.query, password: S.password });
    } else if (url.pathname === '/api/participants') {
      json(200, { data: [{ id: 1, first_name: 'Ada' }], meta: { total: 1 } });
    } else if (url.pathname === '/api/login') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => json(200, { access_token: S.respToken, token_type: 'Bearer' }));
    } else {
      json(404, { message: 'Not found.' });
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a HAR recorded by Playwright in Chromium imports row for row, secrets redacted', async (t) => {
  const server = await site();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const harFile = path.join(TMP, 'playwright.har');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ recordHar: { path: harFile } });
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.title === 'done', null, { timeout: 15_000 });
    // a JSON document straight from the fake API, as a top-level navigation
    await page.goto(`${API_URL}/health`);
    await context.close(); // writes the HAR
  } finally {
    await browser.close();
    server.close();
  }
  assert.ok(existsSync(harFile), 'Playwright wrote no HAR');
  const har = JSON.parse(readFileSync(harFile, 'utf8'));
  const entries = har.log.entries;
  assert.ok(entries.length >= 10, `only ${entries.length} entries recorded`);
  const raw = readFileSync(harFile, 'utf8');
  for (const s of [S.bearer, S.cookie, S.query, S.password, S.respToken])
    assert.ok(raw.includes(s), `the recorded HAR should hold ${s} (the test's premise)`);

  const db = path.join(TMP, 'playwright.db');
  const r = await ok(['--db', db, 'import', harFile]);
  assert.equal(r.stdout, `imported ${entries.length} calls from ${harFile}\n`);

  const rows = JSON.parse((await ok(['--db', db, 'list', '--json', '--limit', '0'])).stdout).reverse();
  assert.equal(rows.length, entries.length);
  const redact = (u) => u.replace(S.query, '[REDACTED]');
  entries.forEach((e, i) => {
    const w = rows[i];
    assert.equal(w.method, e.request.method, `entry ${i} method`);
    assert.equal(w.url, redact(e.request.url), `entry ${i} url`);
    assert.equal(w.status, e.response.status > 0 ? e.response.status : null, `entry ${i} status`);
    assert.equal(w.source, 'import');
    assert.equal(w.started_at.slice(0, 23), e.startedDateTime.slice(0, 23), `entry ${i} time`);
  });
  const byPath = (p) => rows.find((w) => w.path === p);
  for (const p of ['/', '/site.css', '/logo.png', '/app.js', '/api/session', '/api/login',
    '/api/missing', '/public/v1/health'])
    assert.ok(byPath(p), `no row for ${p}`);
  assert.equal(byPath('/api/missing').status, 404);
  assert.match(byPath('/api/login').key, /^….{4}#[0-9a-f]{8}$/);

  // full rows: the image as binary, the login body redacted, the health JSON kept
  const show = async (w) => JSON.parse((await ok(['--db', db, 'show', String(w.id), '--json'])).stdout);
  const logo = await show(byPath('/logo.png'));
  assert.equal(Buffer.from(logo.response_body.base64, 'base64').compare(PNG), 0);
  const login = await show(byPath('/api/login'));
  assert.equal(JSON.parse(login.request_body).password, '[REDACTED]');
  assert.equal(JSON.parse(login.response_body).access_token, '[REDACTED]');
  const health = await show(byPath('/public/v1/health'));
  assert.deepEqual(JSON.parse(health.response_body), { ok: true });

  // no secret in any of the database's files, nor in its export, which is valid HAR
  const out = path.join(TMP, 'playwright-reexport.har');
  await ok(['--db', db, 'export', '--format', 'har', '-o', out]);
  const doc = await validate(out);
  assert.equal(doc.log.entries.length, entries.length);
  for (const f of [db, `${db}-wal`, `${db}-shm`, out]) {
    if (!existsSync(f)) continue;
    const bytes = readFileSync(f);
    for (const s of Object.values(S))
      assert.ok(!bytes.includes(Buffer.from(s)), `${s} is in ${path.basename(f)}`);
  }
  t.diagnostic(`checked: Playwright recorded ${entries.length} entries (page, css, png, js, ` +
    'fetches, a 404, the fake API health JSON); reqlog imported them all, row for row; no ' +
    'bearer key, cookie, query token, password or response token in the db files or the ' +
    're-export, which is valid HAR 1.2');
});

test('reqlog import rejects a malformed HAR naming the JSON path, and a missing file', async () => {
  const db = path.join(TMP, 'bad.db');
  const bad = path.join(TMP, 'bad.har');
  writeFileSync(bad, JSON.stringify({ log: { version: '1.2', entries: [{ startedDateTime: 'soon' }] } }));
  let r = await reqlog(['--db', db, 'import', bad]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `reqlog: import: ${bad}: log.entries[0].startedDateTime: not an ISO 8601 time\n`);
  assert.equal(await rowCount(db), 0);
  r = await reqlog(['--db', path.join(TMP, 'never.db'), 'import', path.join(TMP, 'missing.har')]);
  assert.equal(r.code, 4);
  assert.ok(!existsSync(path.join(TMP, 'never.db')), 'a database was created for a missing file');
});
