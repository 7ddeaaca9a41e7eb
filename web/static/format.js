// format.js: how values of the row model are shown.

const pad = (n, w = 2) => String(n).padStart(w, '0');

// "2026-11-27T21:04:05.123456Z" -> Date (millisecond precision; the rest is kept for titles)
export function parseTime(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

// Local wall-clock time: "2026-11-27 22:04:05" (seconds), with ".123" when ms is true.
export function localTime(iso, ms = false) {
  const d = parseTime(iso);
  if (!d) return iso || '—';
  let s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (ms) s += `.${pad(d.getMilliseconds(), 3)}`;
  return s;
}

// Compact list time: "22:04:05" for today, "11-27 22:04:05" this year, else the full date.
export function shortTime(iso, now = new Date()) {
  const d = parseTime(iso);
  if (!d) return iso || '—';
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return t;
  if (d.getFullYear() === now.getFullYear()) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}`;
}

export function utcTitle(iso) {
  return iso ? `${iso.replace('T', ' ').replace('Z', '')} UTC` : '';
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '—';
  ms = Number(ms);
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)} m ${Math.round((ms % 60000) / 1000)} s`;
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  n = Number(n);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(n < 10485760 ? 1 : 0)} MiB`;
  return `${(n / 1073741824).toFixed(1)} GiB`;
}

export function count(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en');
}

// The colour class of a status: s2xx s3xx s4xx s429 s5xx serr (transport error), sother.
export function statusClass(status) {
  if (status === null || status === undefined) return 'serr';
  if (status === 429) return 's429';
  if (status >= 200 && status < 300) return 's2xx';
  if (status >= 300 && status < 400) return 's3xx';
  if (status >= 400 && status < 500) return 's4xx';
  if (status >= 500 && status < 600) return 's5xx';
  return 'sother';
}

// A header value the recorder replaced before storing it ("[REDACTED]", or the
// "Bearer …" of an Authorization header).
export function isRedacted(value) {
  return value.includes('[REDACTED]') || /^Bearer …/.test(value);
}

export function statusText(status) {
  return status === null || status === undefined ? 'ERR' : String(status);
}

const REASONS = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted',
  204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict',
  410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reason(status) {
  if (status === null || status === undefined) return 'Transport error';
  return REASONS[status] || '';
}
