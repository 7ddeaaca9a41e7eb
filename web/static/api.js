// api.js: the dashboard's JSON API (web/API.md). Same-origin fetches only; errors come
// back as ApiError carrying the server's {"message", "errors"}.

export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.errors = errors && typeof errors === 'object' ? errors : null;
  }
}

export async function request(url, opts = {}) {
  let res;
  try {
    res = await fetch(url, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      ...opts,
    });
  } catch (e) {
    throw new ApiError(0, `The dashboard server did not answer (${e.message}).`);
  }
  let body = null;
  const text = await res.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const msg = body && typeof body.message === 'string' ? body.message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg, body && body.errors);
  }
  if (body === null) throw new ApiError(res.status, 'The server answered with something that is not JSON.');
  return body;
}

// FILTERS (URLSearchParams) + extra parameters -> query string (no leading '?').
export function query(filters, extra = {}) {
  const p = new URLSearchParams(filters);
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  return p.toString();
}

export const listRequests = (filters, extra) => request(`/api/requests?${query(filters, extra)}`);
export const getRequest = (id) => request(`/api/requests/${encodeURIComponent(id)}`);
export const getStats = (filters) => request(`/api/stats?${query(filters)}`);
export const replay = (id) => request(`/api/requests/${encodeURIComponent(id)}/replay`, { method: 'POST' });
export function exportUrl(format, filters) {
  const p = new URLSearchParams([['format', format]]);
  for (const [k, v] of new URLSearchParams(filters)) p.append(k, v);
  return `/api/export?${p}`;
}
export const streamUrl = (filters, after) => `/api/stream?${query(filters, { after })}`;
