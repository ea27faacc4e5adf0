// JSON API client: fetch wrapper for `/api/...` with the token, the `X-Wirewatch: 1` header on
// POSTs, and errors turned into ApiError (status + the server's `{"error"}` message); getFile()
// does the same for downloads (capture files) and hands back the body as a Blob.

import { getToken } from './auth.js';

/** An API failure: `status` is the HTTP status (0 for a network error). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** Listeners told about every 401 (the page shows its token form). */
const unauthorizedListeners = new Set();

/** Calls `fn(error)` whenever a request is answered 401. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/** URL of an API path relative to the page (so a reverse proxy under a prefix works). */
export function apiUrl(path, params) {
  const url = new URL(path.replace(/^\//, ''), document.baseURI);
  if (params) url.search = params instanceof URLSearchParams ? params.toString() : new URLSearchParams(params).toString();
  return url.toString();
}

async function errorMessage(response) {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // body unreadable
  }
  if (text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body.error === 'string' && body.error) return body.error;
    } catch {
      // not JSON
    }
    if (text.length < 300) return text.trim();
  }
  return `${response.status} ${response.statusText || 'error'}`.trim();
}

/** Sends a request; resolves to the 2xx Response, throws ApiError otherwise. */
async function send(path, { method = 'GET', body, params, signal, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (method !== 'GET' && method !== 'HEAD') headers['X-Wirewatch'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(apiUrl(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'cannot reach the Wirewatch server');
  }
  if (!response.ok) {
    const error = new ApiError(response.status, await errorMessage(response));
    if (response.status === 401) for (const fn of unauthorizedListeners) fn(error);
    throw error;
  }
  return response;
}

/**
 * Sends a request and returns the parsed JSON body (null for an empty body).
 * Options: method ('GET'), body (sent as JSON), params (query), signal.
 * Throws ApiError on a network failure (status 0) or a non-2xx answer.
 */
export async function request(path, options = {}) {
  const response = await send(path, options);
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'the server sent a response that is not JSON');
  }
}

/**
 * GETs a file (a download such as a capture): resolves to `{blob, headers}`. Same token
 * handling and errors as request(): a non-2xx answer throws ApiError with the server's
 * `{"error"}` text. Options: params (query), signal.
 */
export async function getFile(path, { params, signal } = {}) {
  const response = await send(path, { params, signal, accept: '*/*' });
  let blob;
  try {
    blob = await response.blob();
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'the download was cut off');
  }
  return { blob, headers: response.headers };
}

/** GET `path` with query `params`. */
export function get(path, params, options = {}) {
  return request(path, { ...options, params });
}

/** POST `body` as JSON to `path`. */
export function post(path, body) {
  return request(path, { method: 'POST', body: body === undefined ? {} : body });
}
