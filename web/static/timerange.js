// timerange.js: the page's one reading of a time range. The server parses since/until
// for every query; the page only needs them for the time axis of the requests/minute
// chart, which shows the filter's whole range, not just the span of the calls found.

const UNIT_MS = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

// One bound as ms since the epoch (NaN when absent or not understood): relative
// ("15m", "24h", "7d") counts back from NOW, like the server does; else ISO 8601.
function bound(v, now) {
  if (!v) return NaN;
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(v.trim());
  if (m) return now - Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
  return Date.parse(v);
}

// since/until of FILTERS (URLSearchParams) as {from, to} in ms since the epoch (either
// may be NaN). A range with a start but no end ends now.
export function timeRange(filters, now = Date.now()) {
  const from = bound(filters.get('since'), now);
  const until = filters.get('until') ? bound(filters.get('until'), now) : (Number.isFinite(from) ? now : NaN);
  return { from, to: until };
}
