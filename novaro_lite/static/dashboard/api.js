// The dashboard's only way to the server: the public API with the token as a bearer header. The token never
// goes into a URL, a cookie or the console.
//
// By default it stays in this tab's sessionStorage: closing the tab forgets it, and each new tab asks again.
// "Remember on this device" is an explicit opt-in that keeps it in localStorage instead, so new tabs (and
// restarts of the browser) are signed in; signing out in any tab then forgets it in all of them.

const KEY = 'novaro-lite.token';
const listeners = new Set();

export function token() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

export function signIn(value, remember = false) {
  (remember ? localStorage : sessionStorage).setItem(KEY, value);
}

/** Forget the token and tell the app (which shows the sign-in form, with `reason` when given). */
export function signOut(reason) {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  for (const listener of listeners) listener(reason);
}

// Another tab signed out of the remembered token: this tab, which used it, is signed out too.
addEventListener('storage', (event) => {
  if (event.key === KEY && event.newValue === null && event.oldValue && !sessionStorage.getItem(KEY)) {
    for (const listener of listeners) listener('You signed out in another tab.');
  }
});

export function onSignOut(listener) {
  listeners.add(listener);
}

/** A failed call: `problem` is the RFC 9457 body; its `detail` is what the person reads. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

async function send(method, path, body, { signal, bearer, type } = {}) {
  const headers = { Accept: 'application/json, text/event-stream', Authorization: `Bearer ${bearer || token()}` };
  // `type`: the body is sent as it is (a file), with that media type; otherwise it becomes JSON.
  if (body !== undefined) headers['Content-Type'] = type || 'application/json';
  const payload = body === undefined || type ? body : JSON.stringify(body);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      signal,
      body: payload,
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { detail: 'The server cannot be reached. Is novaro-lite still running?' });
  }
  if (response.ok) return response;
  let problem;
  try {
    problem = await response.json();
  } catch {
    problem = { detail: `The server answered ${response.status} ${response.statusText}.` };
  }
  if (response.status === 401 && !bearer) signOut(problem.detail);
  throw new ApiError(response.status, problem);
}

/** Call the API and return its JSON (null for 204). */
export async function api(method, path, body, options) {
  const response = await send(method, path, body, options);
  return response.status === 204 ? null : response.json();
}

/** An image the API serves (with the bearer header, which an <img src> cannot send) as a blob; null on 404. */
export async function image(path) {
  try {
    return await (await send('GET', path)).blob();
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** Check a token before keeping it: the answer of GET /api/v1/auth/verify. */
export function verify(candidate) {
  return api('GET', '/api/v1/auth/verify', undefined, { bearer: candidate });
}

/** Every item of a cursor-paginated list, at most `max` of them; `truncated` says whether more exist. */
export async function listAll(path, params = {}, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ ...params, limit: '200' });
    if (cursor) query.set('cursor', cursor);
    const page = await api('GET', `${path}?${query}`);
    items.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}

/** Call the API and return the answer's body as a Blob (a file to download) with its file name. */
export async function download(path) {
  const response = await send('GET', path);
  const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return { blob: await response.blob(), name: named ? named[1] : 'download' };
}

async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replaceAll('\r\n', '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

/** POST with `stream: true` and call onEvent(name, data) for each server-sent event as it arrives. */
export async function stream(path, body, onEvent, signal) {
  await readEvents(await send('POST', path, body, { signal }), onEvent);
}

/** GET a stream of server-sent events (with the bearer header, which EventSource cannot send) until it ends. */
export async function follow(path, onEvent, signal) {
  await readEvents(await send('GET', path, undefined, { signal }), onEvent);
}
