// stats.js: the stats strip for the current filter (GET /api/stats): totals, latency
// percentiles, 429s, the status breakdown, requests per minute (SVG drawn here) and
// per-key usage against the rate limit.

import { h, svg, clear, byTestId } from './dom.js';
import * as fmt from './format.js';

const CLASS_ORDER = [['2xx', 's2xx'], ['3xx', 's3xx'], ['4xx', 's4xx'], ['5xx', 's5xx'], ['error', 'serr'], ['1xx', 'sother'], ['other', 'sother']];

// RANGE: {from, to} in ms since the epoch (either may be NaN) for the chart's time axis.
export function renderStats(root, st, { onStatus, range } = {}) {
  setValue(byTestId('stats-total', root), fmt.count(st.total), st.total);
  const lat = st.latency_ms || {};
  // Whole days of a long range come from the server's duration histogram: within 0.5%.
  const approx = st.latency_exact === false ? '≈' : '';
  for (const p of ['p50', 'p95']) {
    const v = lat[p];
    const el = byTestId(`stats-${p}`, root);
    setValue(el, v === null || v === undefined ? '—' : approx + fmt.duration(v), v);
    el.title = approx ? 'from the daily duration histogram: within 0.5% of the exact value' : '';
  }
  setValue(byTestId('stats-429', root), fmt.count(st.rate_limited), st.rate_limited);
  byTestId('stats-429', root).closest('.stat').classList.toggle('has-429', st.rate_limited > 0);
  setValue(root.querySelector('#stats-errors'), fmt.count(st.errors), st.errors);

  // status classes as one proportional bar, then each status code as a button
  const bar = clear(root.querySelector('#class-bar'));
  const byClass = st.by_class || {};
  const total = st.total || 0;
  for (const [name, cls] of CLASS_ORDER) {
    const n = byClass[name] || 0;
    if (!n || !total) continue;
    const seg = h('span', { class: `class-seg ${cls}`, title: `${name}: ${n}` });
    seg.style.flexGrow = String(n / total);
    bar.appendChild(seg);
  }
  const codes = clear(root.querySelector('#status-codes'));
  const byStatus = Object.entries(st.by_status || {});
  if (st.errors) byStatus.push(['error', st.errors]);
  for (const [code, n] of byStatus) {
    const status = code === 'error' ? null : Number(code);
    const btn = h('button', { type: 'button', class: `code-chip ${fmt.statusClass(status)}`, title: `Show only ${code}`, data: { status: code } },
      h('span', { class: 'code' }, code), h('span', { class: 'n' }, fmt.count(n)));
    if (onStatus) btn.addEventListener('click', () => onStatus(code));
    codes.appendChild(btn);
  }
  if (!byStatus.length) codes.appendChild(h('span', { class: 'muted' }, 'no calls'));

  drawRpm(root, st, range);
  renderKeys(byTestId('key-usage', root), st);
}

function setValue(el, text, raw) {
  el.textContent = text;
  if (raw === null || raw === undefined) delete el.dataset.value;
  else el.dataset.value = String(raw);
}

const MAX_BARS = 240;

// Bars of calls per minute. Server buckets wider than a minute, and groups of buckets
// merged here so that at most MAX_BARS bars are drawn, show their average rate per
// minute; the peak label is the busiest single bucket. The SVG is stretched to its box
// (preserveAspectRatio="none"); the labels around it are HTML.
function drawRpm(root, st, range) {
  const chart = clear(byTestId('rpm-chart', root));
  const raw = Array.isArray(st.per_minute) ? st.per_minute : [];
  const bucketMin = Math.max(1, (st.bucket_s || 60) / 60);
  const peakRate = Math.max(0, ...raw.map((p) => (p.count || 0) / bucketMin));
  const limit = st.limit_per_minute ?? (st.keys && st.keys[0] && st.keys[0].limit) ?? null;
  const W = 1000;
  const H = 100;
  chart.appendChild(svg('line', { class: 'rpm-base', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, 'vector-effect': 'non-scaling-stroke' }));
  const fromEl = root.querySelector('#rpm-from');
  const toEl = root.querySelector('#rpm-to');
  const peakEl = root.querySelector('#rpm-peak');
  if (!raw.length) {
    fromEl.textContent = 'no calls in range';
    toEl.textContent = '';
    peakEl.textContent = '';
    chart.setAttribute('aria-label', 'Requests per minute: no calls');
    return;
  }
  const { bars, groupMin } = mergeBuckets(raw, bucketMin);
  const max = Math.max(0, ...bars.map((b) => b.rate));
  // the top of the scale: the peak, or the limit line when one key is in view and near it
  const keys = (st.keys || []).filter((x) => x.key !== null);
  const showLimit = limit && keys.length === 1 && peakRate >= limit * 0.5;
  const top = Math.max(showLimit ? limit * 1.1 : 0, max, 1);
  const barMs = groupMin * 60000;
  const { from, until } = timeAxis(bars, barMs, range);
  const scale = W / (until - from);
  const slot = barMs * scale;
  const barW = Math.max(Math.min(slot * 0.8, 60), Math.min(slot, 1.5));
  for (const b of bars) {
    const bh = b.rate > 0 ? Math.max((b.rate / top) * (H - 4), 1.5) : 0;
    const x0 = (b.start - from) * scale;
    const x = Math.min(W - barW, x0 + (slot - barW) / 2);
    const label = barLabel(b);
    if (bh > 0) {
      const rect = svg('rect', { class: `rpm-bar${limit && b.rate >= limit ? ' over' : ''}`, x: x.toFixed(2), y: (H - bh).toFixed(2), width: barW.toFixed(2), height: bh.toFixed(2) });
      rect.appendChild(svg('title', null, label));
      chart.appendChild(rect);
    }
    // a transparent full-height hit area so thin bars still show their tooltip
    const hit = svg('rect', { class: 'rpm-hit', x: Math.max(0, x0).toFixed(2), y: 0, width: Math.max(slot, 2).toFixed(2), height: H });
    hit.appendChild(svg('title', null, label));
    chart.appendChild(hit);
  }
  if (showLimit) {
    const y = H - (limit / top) * (H - 4);
    chart.appendChild(svg('line', { class: 'rpm-limit', x1: 0, y1: y.toFixed(2), x2: W, y2: y.toFixed(2), 'vector-effect': 'non-scaling-stroke' },
      svg('title', null, `limit ${limit}/min per key`)));
  }
  fromEl.textContent = fmt.localTime(new Date(from).toISOString());
  toEl.textContent = fmt.localTime(new Date(until).toISOString());
  const peakText = rateText(peakRate);
  peakEl.textContent = `peak ${peakText}/min${groupMin > 1 ? ` · bars of ${groupMin} min` : ''}`;
  chart.setAttribute('aria-label', `Requests per minute: ${bars.length} bars of ${groupMin} min, peak ${peakText}/min`);
}

// RAW's buckets (BUCKET_MIN minutes each) merged in groups of K, so that at most
// MAX_BARS bars are drawn: [{start (ms), iso, count, rate (per minute), mins}].
function mergeBuckets(raw, bucketMin) {
  const k = Math.ceil(raw.length / MAX_BARS);
  const bars = [];
  for (let i = 0; i < raw.length; i += k) {
    const part = raw.slice(i, i + k);
    const n = part.reduce((s, p) => s + (p.count || 0), 0);
    bars.push({ start: Date.parse(part[0].minute), iso: part[0].minute, count: n, rate: n / (bucketMin * part.length), mins: bucketMin * part.length });
  }
  return { bars, groupMin: bucketMin * k };
}

// x is time: the filter's RANGE when it has one, else the span of the BARS.
function timeAxis(bars, barMs, range) {
  const t0 = bars[0].start;
  const tn = bars[bars.length - 1].start + barMs;
  const from = range && Number.isFinite(range.from) ? Math.min(range.from, t0) : t0;
  let until = range && Number.isFinite(range.to) ? Math.max(range.to, tn) : tn;
  if (!(until > from)) until = from + barMs;
  return { from, until };
}

function rateText(rate) {
  return Number.isInteger(rate) ? String(rate) : rate.toFixed(1);
}

function barLabel(b) {
  const calls = `${fmt.localTime(b.iso)}: ${b.count} call${b.count === 1 ? '' : 's'}`;
  return b.mins > 1 ? `${calls} in ${b.mins} min (${rateText(b.rate)}/min)` : calls;
}

function renderKeys(el, st) {
  clear(el);
  const keys = st.keys || [];
  if (!keys.length) {
    el.appendChild(h('span', { class: 'muted' }, 'no calls'));
    return;
  }
  const table = h('table', { class: 'keys-table' });
  for (const k of keys.slice(0, 4)) {
    const limit = k.limit ?? st.limit_per_minute ?? null;
    const share = limit ? Math.min(1, k.peak_per_minute / limit) : 0;
    const level = !limit ? '' : k.peak_per_minute >= limit ? 'over' : share >= 0.8 ? 'near' : 'ok';
    const fill = h('span', { class: `meter-fill ${level}` });
    fill.style.width = `${(share * 100).toFixed(1)}%`;
    table.appendChild(h('tr', { data: { key: k.key ?? '' } },
      h('td', { class: 'k-name' }, k.key
        ? h('a', { href: `#/?key=${encodeURIComponent(k.key)}`, title: `Only calls with key ${k.key}` }, k.key)
        : h('span', { class: 'muted' }, 'no key')),
      h('td', { class: 'k-count num', title: 'calls' }, fmt.count(k.count)),
      h('td', { class: 'k-meter', title: limit ? `busiest minute: ${k.peak_per_minute} of ${limit} allowed` : `busiest minute: ${k.peak_per_minute} (no limit)` },
        h('span', { class: 'meter' }, fill)),
      h('td', { class: 'k-peak num' }, limit ? `${k.peak_per_minute}/${limit}` : `${k.peak_per_minute}/min`)));
  }
  el.appendChild(table);
  if (keys.length > 4) el.appendChild(h('div', { class: 'muted more-keys' }, `+ ${keys.length - 4} more key${keys.length - 4 === 1 ? '' : 's'}`));
}

// Back to placeholders (the filter could not be used).
export function clearStats(root) {
  for (const id of ['stats-total', 'stats-p50', 'stats-p95', 'stats-429']) setValue(byTestId(id, root), '–', null);
  setValue(root.querySelector('#stats-errors'), '–', null);
  byTestId('stats-429', root).closest('.stat').classList.remove('has-429');
  for (const sel of ['#class-bar', '#status-codes', '#rpm-from', '#rpm-to', '#rpm-peak']) clear(root.querySelector(sel));
  clear(byTestId('rpm-chart', root));
  clear(byTestId('key-usage', root));
}
