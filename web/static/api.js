// api.js: the dashboard's JSON API (web/API.md). Same-origin fetches only; errors come
// back as ApiError carrying the server's {"message", "errors"}.

export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.errors = errors && typeof errors === 'object' ? errors : null;
  }
}

// FETCH with the page's credentials; a request that got no answer becomes ApiError(0).
async function send(url, opts) {
  try {
    return await fetch(url, { credentials: 'same-origin', ...opts });
  } catch (e) {
    throw new ApiError(0, `The dashboard server did not answer (${e.message}).`);
  }
}

// The JSON of a response's TEXT, or null when it is empty or not JSON.
function parseBody(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// The ApiError of a failed response: the server's message, else FALLBACK.
function failure(res, body, fallback) {
  const msg = body && typeof body.message === 'string' ? body.message : fallback;
  return new ApiError(res.status, msg, body && body.errors);
}

export async function request(url, opts = {}) {
  const res = await send(url, { headers: { Accept: 'application/json' }, ...opts });
  const body = parseBody(await res.text());
  if (!res.ok) throw failure(res, body, `${res.status} ${res.statusText}`);
  if (body === null) throw new ApiError(res.status, 'The server answered with something that is not JSON.');
  return body;
}

// Asks for a download without saving it: resolves once the server answers 2xx (the
// body is left unread and the request aborted), throws its ApiError otherwise.
export async function checkDownload(url) {
  const ctl = new AbortController();
  const res = await send(url, { signal: ctl.signal });
  if (!res.ok) throw failure(res, parseBody(await res.text()), `Export failed: HTTP ${res.status}`);
  ctl.abort();
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
const replayPath = (id) => `/api/requests/${encodeURIComponent(id)}/replay`;
// what a replay would send (nothing is sent), then the replay itself
export const replayPlan = (id) => request(replayPath(id));
export const replay = (id) => request(replayPath(id), { method: 'POST' });
// two calls compared (reqlog_diff): WITH a row id or 'previous'; extra: ignore, keep
export const getDiff = (id, withId, extra = {}) =>
  request(`/api/requests/${encodeURIComponent(id)}/diff?${query('', { with: withId, ...extra })}`);
// an edited replay ({method, url, headers, body, base_url}; dry_run: the plan only)
export const replayEdited = (id, edit) => request(replayPath(id), {
  method: 'POST',
  headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
  body: JSON.stringify(edit),
});
// the call as code in LANG (curl, python, node, php, httpie, go): {id, lang, code}
export const getSnippet = (id, lang) => request(`/api/requests/${encodeURIComponent(id)}/snippet?${query({}, { lang })}`);
// a call's note, tags and pin ({note, tags, pinned}, each optional): the saved row back
export const saveNotes = (id, change) => request(`/api/requests/${encodeURIComponent(id)}/notes`, {
  method: 'POST',
  headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
  body: JSON.stringify(change),
});
export function exportUrl(format, filters) {
  const p = new URLSearchParams([['format', format]]);
  for (const [k, v] of new URLSearchParams(filters)) p.append(k, v);
  return `/api/export?${p}`;
}
export const streamUrl = (filters, after) => `/api/stream?${query(filters, { after })}`;
