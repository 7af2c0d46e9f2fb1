// @ts-check
// The console's only way to the server: the operator API (/api/operator/*), JSON both ways,
// the session cookie and the CSRF token on every write.

/** A refusal of the operator API: the HTTP status and the body it sent (status 0: no answer at all). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   */
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The session's CSRF token, and what to do when the session is gone (set by the app). */
export const session = {
  /** @type {string | undefined} */
  csrf: undefined,
  /** @type {(path: string) => void} */
  onUnauthorized: () => undefined,
};

/**
 * Calls the operator API. The answer's shapes are in docs/formats.md ("Operator API").
 * @param {'GET' | 'POST' | 'PUT' | 'DELETE'} method
 * @param {string} path below /api/operator
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (session.csrf) headers['x-csrf-token'] = session.csrf;
  }
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`/api/operator${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
    });
  } catch {
    // No answer at all (the server restarting, the network down): status 0, said as such by the app.
    throw new ApiError(0, { error: 'the server did not answer' });
  }
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  if (res.status === 401 && path !== '/login') {
    session.onUnauthorized(path);
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/**
 * A query string from the filled-in fields (empty ones left out).
 * @param {Record<string, string | number | undefined>} params
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
