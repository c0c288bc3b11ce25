// The console's only way to the gateway: every call carries the signed-in key; errors arrive as ApiError with the
// problem document's code, title and field errors.
const keyName = 'livegrains.apiKey';

export const session = {
  // sessionStorage, not localStorage: the key dies with the tab and is never shared between tabs or written to disk.
  get key() { return sessionStorage.getItem(keyName); },
  signIn(key) { sessionStorage.setItem(keyName, key); },
  signOut() { sessionStorage.removeItem(keyName); },
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
    this.errors = problem?.errors ?? null;
  }
}

// A fresh Idempotency-Key per user action: a POST the browser resends after a dropped connection is applied once.
// crypto.randomUUID needs a secure context; getRandomValues works on a plain-http gateway too.
function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'console-' + Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

export async function api(method, path, body, key = session.key) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${key}` };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (method === 'POST') {
    headers['Idempotency-Key'] = idempotencyKey();
  }
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    throw new ApiError(response.status, data);
  }
  return data;
}

export const get = path => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const del = path => api('DELETE', path);

// The live event stream (GET /v1/lives/{id}/events). EventSource cannot send an Authorization header, and putting
// the key (or a token) in the URL would leave it in access logs and browser history; so the stream is read with
// fetch(), which sends the header, and parsed here. The gateway needs no second way to authenticate this route.
// onEvent(name, data) runs for each event; the stream reconnects after a drop until close() is called.
export function subscribe(liveId, onEvent) {
  const controller = new AbortController();
  let closed = false;
  const run = async () => {
    while (!closed) {
      try {
        const response = await fetch(`/v1/lives/${encodeURIComponent(liveId)}/events`, {
          headers: { Accept: 'text/event-stream', Authorization: `Bearer ${session.key}` },
          signal: controller.signal,
        });
        if (!response.ok) {
          // 401/404 do not heal by retrying; say so once and stop.
          onEvent('error', new ApiError(response.status, await response.json().catch(() => null)));
          return;
        }
        for await (const event of readEvents(response.body)) {
          onEvent(event.name, event.data);
        }
      } catch (error) {
        if (closed) {
          return;
        }
      }
      await new Promise(resolve => setTimeout(resolve, 2000));
    }
  };
  run();
  return { close() { closed = true; controller.abort(); } };
}

// text/event-stream framing: events end with a blank line; 'event:' names one, 'data:' lines carry its JSON.
async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer = (buffer + value).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of frame.split('\n')) {
        if (line === '' || line.startsWith(':')) {
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) {
          text = text.slice(1);
        }
        if (field === 'event') {
          name = text;
        } else if (field === 'data') {
          data.push(text);
        }
      }
      if (data.length > 0) {
        yield { name, data: JSON.parse(data.join('\n')) };
      }
    }
  }
}
