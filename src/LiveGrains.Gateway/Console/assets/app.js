import { ApiError, api, del, get, post, session, subscribe } from './api.js';
import { duration, h, statusBadge, table, viewerChart, when } from './dom.js';

const view = document.getElementById('view');
const notice = document.getElementById('notice');
const nav = document.getElementById('nav');
const signInPanel = document.getElementById('sign-in-panel');
const signInError = document.getElementById('sign-in-error');

// Browsers open at most 6 HTTP/1.1 connections to one origin and each live event stream holds one; the live-now
// page streams the top rows only, so API calls always have a free connection. Lower rows refresh with the list.
const maxStreams = 4;
const listRefreshMs = 5000;

let dispose = () => {};

const e = encodeURIComponent;

function showError(error) {
  notice.textContent = error instanceof ApiError
    ? `${error.message}${error.code ? ` (${error.code})` : ''}${error.errors ? ': ' + Object.entries(error.errors).map(([k, v]) => `${k}: ${[v].flat().join(', ')}`).join('; ') : ''}`
    : String(error?.message ?? error);
  if (error instanceof ApiError && error.status === 401) {
    signOut('Your key was refused; sign in again.');
  }
}

// Runs a user action; a failure shows in the alert region instead of vanishing into the console log. The clicked
// button is disabled while it runs (no double submits); afterwards restore() decides its state when the page owns it
// (the live controls follow the live's status), else it is enabled again.
function action(run, restore = null) {
  return async event => {
    event?.preventDefault?.();
    notice.textContent = '';
    const button = event?.currentTarget instanceof HTMLButtonElement ? event.currentTarget : null;
    if (button) {
      button.disabled = true;
    }
    try {
      await run(event);
    } catch (error) {
      showError(error);
    } finally {
      if (restore) {
        restore();
      } else if (button && button.isConnected) {
        button.disabled = false;
      }
    }
  };
}

function signOut(message = '') {
  session.signOut();
  dispose();
  view.replaceChildren();
  nav.hidden = true;
  signInPanel.hidden = false;
  signInError.textContent = message;
  document.getElementById('api-key').focus();
}

document.getElementById('sign-out').addEventListener('click', () => signOut());

document.getElementById('sign-in').addEventListener('submit', async event => {
  event.preventDefault();
  const input = document.getElementById('api-key');
  const key = input.value.trim();
  signInError.textContent = '';
  try {
    // Any read proves the key; a read-scoped key can use the console's pages, its buttons then answer 403.
    await api('GET', '/v1/lives?limit=1', undefined, key);
  } catch (error) {
    signInError.textContent = error instanceof ApiError && error.status === 401
      ? 'That API key was not accepted (401 unauthorized).'
      : `Could not sign in: ${error.message}`;
    return;
  }
  input.value = '';
  session.signIn(key);
  start();
});

function start() {
  signInPanel.hidden = true;
  nav.hidden = false;
  if (!location.hash || location.hash === '#/') {
    location.hash = '#/live';
  } else {
    route();
  }
}

const routes = [
  [/^#\/live$/, () => liveNowPage()],
  [/^#\/rooms$/, () => roomsPage()],
  [/^#\/rooms\/([^/]+)$/, m => roomPage(decodeURIComponent(m[1]))],
  [/^#\/lives\/([^/]+)$/, m => livePage(decodeURIComponent(m[1]))],
  [/^#\/streams$/, () => streamsPage()],
  [/^#\/webhooks$/, () => webhooksPage()],
];

async function route() {
  if (!session.key) {
    signOut();
    return;
  }
  dispose();
  dispose = () => {};
  notice.textContent = '';
  for (const link of nav.querySelectorAll('a')) {
    const href = link.getAttribute('href');
    if (location.hash === href || location.hash.startsWith(href + '/')) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  const match = routes.map(([pattern, page]) => [location.hash.match(pattern), page]).find(([m]) => m);
  if (!match) {
    location.hash = '#/live';
    return;
  }
  const token = {};
  route.current = token;
  try {
    const page = await match[1](match[0]);
    if (route.current === token) {
      view.replaceChildren(page.element);
      dispose = page.dispose ?? (() => {});
      page.element.querySelector('h2')?.focus?.();
    } else {
      page.dispose?.();
    }
  } catch (error) {
    view.replaceChildren();
    showError(error);
  }
}

window.addEventListener('hashchange', route);

// --- Live now ------------------------------------------------------------------------------------------------

async function liveNowPage() {
  const body = h('tbody');
  const latest = new Map();
  const streams = new Map();
  const element = h('section', { 'aria-labelledby': 'live-now-title' },
    h('h2', { id: 'live-now-title', tabindex: -1 }, 'Live now'),
    h('p', { class: 'muted' }, 'Lives on air, most viewers first. Viewer counts update as they change.'),
    h('table', { id: 'live-now' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Live'), h('th', { scope: 'col' }, 'Room'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col', class: 'num' }, 'Viewers'), h('th', { scope: 'col', class: 'num' }, 'Likes'),
        h('th', { scope: 'col', class: 'num' }, 'Chat'), h('th', { scope: 'col' }, 'Started'))),
      body),
    h('p', { id: 'live-now-empty', class: 'muted', hidden: true }, 'Nothing is live right now.'));

  const cells = liveId => body.querySelector(`tr[data-live-id="${CSS.escape(liveId)}"]`);
  const showStats = (liveId, stats) => {
    const row = cells(liveId);
    if (row) {
      row.querySelector('.viewers').textContent = stats.viewer_count;
      row.querySelector('.likes').textContent = stats.like_count;
      row.querySelector('.chat').textContent = stats.chat_message_count;
    }
  };

  const load = async () => {
    const page = await get('/v1/lives?status=live&order=viewer_count&limit=50');
    body.replaceChildren(...page.items.map(live => {
      const stats = latest.get(live.live_id) ?? live.stats;
      return h('tr', { 'data-live-id': live.live_id },
        h('td', {}, h('a', { href: `#/lives/${e(live.live_id)}` }, live.title || live.live_id)),
        h('td', {}, h('a', { href: `#/rooms/${e(live.room_id)}` }, live.room_id)),
        h('td', {}, statusBadge(live.status)),
        h('td', { class: 'num viewers', 'aria-live': 'polite' }, stats.viewer_count),
        h('td', { class: 'num likes', 'aria-live': 'polite' }, stats.like_count),
        h('td', { class: 'num chat', 'aria-live': 'polite' }, stats.chat_message_count),
        h('td', {}, when(live.started_at)));
    }));
    element.querySelector('#live-now-empty').hidden = page.items.length > 0;

    const top = new Set(page.items.slice(0, maxStreams).map(l => l.live_id));
    for (const [liveId, stream] of streams) {
      if (!top.has(liveId)) {
        stream.close();
        streams.delete(liveId);
        latest.delete(liveId);
      }
    }
    for (const liveId of top) {
      if (!streams.has(liveId)) {
        streams.set(liveId, subscribe(liveId, (name, data) => {
          if (name === 'stats') {
            latest.set(liveId, data);
            showStats(liveId, data);
          } else if (name === 'status' && data.status !== 'live') {
            load().catch(showError);
          }
        }));
      }
    }
  };

  await load();
  const timer = setInterval(() => load().catch(showError), listRefreshMs);
  return {
    element,
    dispose() {
      clearInterval(timer);
      for (const stream of streams.values()) {
        stream.close();
      }
    },
  };
}

// --- Rooms ---------------------------------------------------------------------------------------------------

async function goLive(roomId, title) {
  const result = await post(`/v1/rooms/${e(roomId)}/go-live`, title ? { title } : {});
  location.hash = `#/lives/${e(result.live.live_id)}`;
}

async function roomsPage() {
  const body = h('tbody');
  let cursor = null;
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More rooms');
  const load = async () => {
    const page = await get(`/v1/rooms?limit=50${cursor ? '&cursor=' + e(cursor) : ''}`);
    body.append(...page.items.map(room => h('tr', {},
      h('td', {}, h('a', { href: `#/rooms/${e(room.room_id)}` }, room.room_id)),
      h('td', {}, room.title ?? ''),
      h('td', {}, room.active_live_id ? h('a', { href: `#/lives/${e(room.active_live_id)}` }, 'active live') : h('span', { class: 'muted' }, 'none')),
      h('td', {}, when(room.created_at)),
      h('td', {}, h('button', { type: 'button', 'aria-label': `Go live in ${room.room_id}`, onclick: action(() => goLive(room.room_id)) }, 'Go live')))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', action(load));

  const roomId = h('input', { id: 'new-room-id', name: 'room_id', placeholder: 'generated if empty' });
  const title = h('input', { id: 'new-room-title', name: 'title' });
  const create = h('form', { class: 'inline', 'aria-label': 'Create a room' },
    h('label', {}, 'Room id', roomId), h('label', {}, 'Title', title), h('button', { type: 'submit' }, 'Create room'));
  create.addEventListener('submit', action(async () => {
    const room = await post('/v1/rooms', { room_id: roomId.value.trim() || undefined, title: title.value.trim() || undefined });
    location.hash = `#/rooms/${e(room.room_id)}`;
  }));

  await load();
  return {
    element: h('section', { 'aria-labelledby': 'rooms-title' },
      h('h2', { id: 'rooms-title', tabindex: -1 }, 'Rooms'), create,
      table('Rooms, newest first', [{ label: 'Room' }, { label: 'Title' }, { label: 'Active live' }, { label: 'Created' }, { label: 'Actions' }], body),
      more),
  };
}

async function roomPage(roomId) {
  const [room, lives, streams] = await Promise.all([
    get(`/v1/rooms/${e(roomId)}`), get(`/v1/rooms/${e(roomId)}/lives?limit=100`), get(`/v1/rooms/${e(roomId)}/streams?limit=100`)]);
  const title = h('input', { id: 'go-live-title', name: 'title' });
  const form = h('form', { class: 'inline', 'aria-label': 'Go live' },
    h('label', {}, 'Live title (optional)', title), h('button', { type: 'submit' }, 'Go live'));
  form.addEventListener('submit', action(() => goLive(roomId, title.value.trim())));

  return {
    element: h('section', { 'aria-labelledby': 'room-title' },
      h('h2', { id: 'room-title', tabindex: -1 }, `Room ${room.room_id}`),
      h('p', {}, room.title ?? '', ' ', h('span', { class: 'muted' }, `takeover policy: ${room.takeover_policy}, reconnect window ${room.reconnect_window_seconds} s`)),
      room.active_live_id ? h('p', {}, 'On air: ', h('a', { href: `#/lives/${e(room.active_live_id)}` }, room.active_live_id)) : null,
      form,
      h('h3', {}, 'History'),
      table('Every live of the room, newest first',
        [{ label: 'Live' }, { label: 'Status' }, { label: 'Started' }, { label: 'Ended' }, { label: 'End reason' }, { label: 'On air', num: true }, { label: 'Peak viewers', num: true }],
        lives.items.map(live => h('tr', {},
          h('td', {}, h('a', { href: `#/lives/${e(live.live_id)}` }, live.title || live.live_id)),
          h('td', {}, statusBadge(live.status)),
          h('td', {}, when(live.started_at)), h('td', {}, when(live.ended_at)), h('td', {}, live.end_reason ?? ''),
          h('td', { class: 'num' }, duration(live.duration_seconds)),
          h('td', { class: 'num' }, live.stats.peak_viewer_count)))),
      h('h3', {}, 'Streams'),
      streamTable(streams.items, () => route()),
      h('button', { type: 'button', class: 'secondary', onclick: action(async () => { await post('/v1/streams', { room_id: roomId }); location.hash = '#/streams'; }) }, 'Create a stream for this room')),
  };
}

// --- A live --------------------------------------------------------------------------------------------------

async function livePage(liveId) {
  const live = await get(`/v1/lives/${e(liveId)}`);
  const samples = [{ at: Date.now(), value: live.stats.viewer_count }];
  const status = h('span', { id: 'live-status', 'aria-live': 'polite' });
  const statsList = h('dl', { class: 'stats', 'aria-live': 'polite', id: 'live-stats' });
  const chartHolder = h('div', { id: 'viewer-chart' });
  const transitions = h('tbody');
  const buttons = {
    start: h('button', { type: 'button' }, 'Go live'),
    pause: h('button', { type: 'button' }, 'Pause'),
    resume: h('button', { type: 'button' }, 'Resume'),
    end: h('button', { type: 'button', class: 'secondary' }, 'End'),
  };
  let current = live;

  const renderStatus = value => {
    current = value;
    status.replaceChildren(statusBadge(value.status), value.end_reason ? ` (${value.end_reason})` : '');
    const can = {
      start: ['scheduled', 'ready'].includes(value.status),
      pause: value.status === 'live',
      resume: value.status === 'paused',
      end: value.status !== 'ended',
    };
    for (const [name, button] of Object.entries(buttons)) {
      button.disabled = !can[name];
    }
  };
  const renderStats = stats => {
    const item = (label, value, cls) => h('div', {}, h('dt', {}, label), h('dd', { class: cls }, value));
    statsList.replaceChildren(
      item('Viewers', stats.viewer_count, 'viewers'), item('Peak viewers', stats.peak_viewer_count),
      item('Unique viewers', stats.unique_viewer_count), item('Views', stats.view_count),
      item('Likes', stats.like_count, 'likes'), item('Chat messages', stats.chat_message_count, 'chat'),
      item('On air', duration(stats.duration_seconds)));
  };
  const renderChart = () => chartHolder.replaceChildren(viewerChart(samples));
  // A button's answer and the event stream both reload the list; only the newest request may draw it, so an
  // older answer arriving late never hides a transition.
  let transitionsRequest = 0;
  const loadTransitions = async () => {
    const request = ++transitionsRequest;
    const page = await get(`/v1/lives/${e(liveId)}/transitions`);
    if (request !== transitionsRequest) {
      return;
    }
    transitions.replaceChildren(...page.items.map(t => h('tr', {},
      h('td', {}, when(t.at)), h('td', {}, t.from ?? '—'), h('td', {}, t.to), h('td', {}, t.by ?? '—'), h('td', {}, t.reason ?? ''))));
  };

  for (const [name, button] of Object.entries(buttons)) {
    button.addEventListener('click', action(async () => {
      renderStatus(await post(`/v1/lives/${e(liveId)}/${name}`, { by: 'console' }));
      await loadTransitions();
    }, () => renderStatus(current)));
  }

  renderStatus(live);
  renderStats(live.stats);
  renderChart();
  await loadTransitions();

  const stream = subscribe(liveId, (name, data) => {
    if (name === 'status') {
      renderStatus(data);
      loadTransitions().catch(showError);
    } else if (name === 'stats') {
      renderStats(data);
      samples.push({ at: Date.now(), value: data.viewer_count });
      renderChart();
    } else if (name === 'error') {
      showError(data);
    }
  });
  // The stream sends stats only when they change; a sample every few seconds keeps the time axis moving.
  const ticker = setInterval(() => {
    if (current.status !== 'ended') {
      samples.push({ at: Date.now(), value: samples.at(-1).value });
      if (samples.length > 720) {
        samples.shift();
      }
      renderChart();
    }
  }, 5000);

  return {
    element: h('section', { 'aria-labelledby': 'live-title' },
      h('h2', { id: 'live-title', tabindex: -1 }, live.title || live.live_id),
      h('p', {}, 'Status: ', status, ' · room ', h('a', { href: `#/rooms/${e(live.room_id)}` }, live.room_id),
        h('span', { class: 'muted' }, ` · ${live.live_id}`)),
      h('div', { class: 'actions', role: 'group', 'aria-label': 'Live controls' }, Object.values(buttons)),
      h('h3', {}, 'Statistics'), statsList,
      h('h3', {}, 'Viewers over time'), h('p', { class: 'muted' }, 'Sampled from the live event stream while this page is open.'), chartHolder,
      h('h3', {}, 'Transitions'),
      table('Who did what, oldest first', [{ label: 'At' }, { label: 'From' }, { label: 'To' }, { label: 'By' }, { label: 'Reason' }], transitions)),
    dispose() {
      stream.close();
      clearInterval(ticker);
    },
  };
}

// --- Streams -------------------------------------------------------------------------------------------------

function streamTable(streams, refresh) {
  const secret = h('div', { 'aria-live': 'polite' });
  const rows = streams.map(stream => h('tr', { 'data-stream-id': stream.stream_id },
    h('td', {}, stream.stream_id, h('br'), h('a', { href: `#/rooms/${e(stream.room_id)}` }, stream.room_id)),
    h('td', {}, statusBadge(stream.status), h('br'), stream.enabled ? 'enabled' : h('span', { class: 'muted' }, 'disabled')),
    h('td', {},
      h('div', {}, 'OBS server: ', h('code', { class: 'url' }, stream.rtmp_url)),
      h('div', {}, 'SRT: ', h('code', { class: 'url' }, stream.srt_url)),
      h('div', {}, 'WHIP: ', h('code', { class: 'url' }, stream.whip_url))),
    h('td', {}, h('div', { class: 'actions' },
      h('button', {
        type: 'button', 'aria-label': `Rotate the key of ${stream.stream_id}`,
        onclick: action(async () => {
          const rotated = await post(`/v1/streams/${e(stream.stream_id)}/rotate-key`);
          secret.replaceChildren(h('p', { class: 'secret' },
            `New stream key for ${rotated.stream_id} (shown once; paste it into OBS as the stream key): `, h('code', {}, rotated.stream_key)));
        }),
      }, 'Rotate key'),
      h('button', {
        type: 'button', class: 'secondary',
        onclick: action(async () => { await post(`/v1/streams/${e(stream.stream_id)}/${stream.enabled ? 'disable' : 'enable'}`); refresh(); }),
      }, stream.enabled ? 'Disable' : 'Enable')))));
  return h('div', {},
    table('Ingest streams: paste the server URL and the stream key into OBS (Settings, Stream, Custom)',
      [{ label: 'Stream / room' }, { label: 'Connection' }, { label: 'Ingest URLs' }, { label: 'Actions' }], rows),
    secret);
}

async function streamsPage() {
  const streams = await get('/v1/streams?limit=100');
  const roomId = h('input', { id: 'new-stream-room', name: 'room_id', required: true });
  const created = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline', 'aria-label': 'Create a stream' },
    h('label', {}, 'Room id', roomId), h('button', { type: 'submit' }, 'Create stream'));
  form.addEventListener('submit', action(async () => {
    const stream = await post('/v1/streams', { room_id: roomId.value.trim() });
    created.replaceChildren(h('p', { class: 'secret' },
      `Stream ${stream.stream_id} created. Its key is shown only now: `, h('code', {}, stream.stream_key),
      h('br'), 'OBS server: ', h('code', {}, stream.rtmp_url)));
  }));
  return {
    element: h('section', { 'aria-labelledby': 'streams-title' },
      h('h2', { id: 'streams-title', tabindex: -1 }, 'Streams'), form, created,
      streamTable(streams.items, () => route())),
  };
}

// --- Webhooks ------------------------------------------------------------------------------------------------

async function webhooksPage() {
  const hooks = await get('/v1/webhooks');
  const url = h('input', { id: 'new-webhook-url', name: 'url', type: 'url', required: true });
  const created = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline', 'aria-label': 'Add a webhook endpoint' },
    h('label', {}, 'Endpoint URL', url), h('button', { type: 'submit' }, 'Add endpoint'));
  form.addEventListener('submit', action(async () => {
    const hook = await post('/v1/webhooks', { url: url.value.trim() });
    created.replaceChildren(h('p', { class: 'secret' }, `Signing secret for ${hook.webhook_id} (shown once): `, h('code', {}, hook.secret)));
    url.value = '';
    section.replaceChildren(...(await hookSections()));
  }));

  const deliveries = async hook => {
    const page = await get(`/v1/webhooks/${e(hook.webhook_id)}/deliveries?limit=50`);
    return table(`Deliveries to ${hook.url}, newest first`,
      [{ label: 'Event' }, { label: 'Resource' }, { label: 'Status' }, { label: 'Attempts', num: true }, { label: 'Last answer' }, { label: 'Updated' }, { label: '' }],
      page.items.map(d => h('tr', {},
        h('td', {}, d.type, h('br'), h('span', { class: 'muted' }, d.event_id)),
        h('td', {}, `${d.resource_type} ${d.resource_id} #${d.sequence}`),
        h('td', {}, d.status), h('td', { class: 'num' }, d.attempts),
        h('td', {}, d.last_status_code ?? d.last_error ?? ''), h('td', {}, when(d.updated_at)),
        h('td', {}, h('button', {
          type: 'button', class: 'secondary', 'aria-label': `Redeliver ${d.event_id}`,
          onclick: action(async () => { await post(`/v1/webhooks/${e(hook.webhook_id)}/deliveries/${e(d.event_id)}/redeliver`); await refresh(); }),
        }, 'Redeliver')))));
  };

  const hookSections = async () => {
    const list = await get('/v1/webhooks');
    return Promise.all(list.items.map(async hook => h('section', { 'aria-label': `Webhook ${hook.url}` },
      h('h3', {}, hook.url),
      h('p', { class: 'muted' }, `${hook.webhook_id} · ${hook.enabled ? 'enabled' : 'disabled'}${hook.failing ? ' · failing' : ''} · events: ${hook.events?.join(', ') || 'all'}`),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: action(async () => { await post(`/v1/webhooks/${e(hook.webhook_id)}/test`); await refresh(); }) }, 'Send test event'),
        h('button', { type: 'button', class: 'secondary', onclick: action(async () => { await post(`/v1/webhooks/${e(hook.webhook_id)}/${hook.enabled ? 'disable' : 'enable'}`); await refresh(); }) }, hook.enabled ? 'Disable' : 'Enable'),
        h('button', { type: 'button', class: 'secondary', onclick: action(async () => { await del(`/v1/webhooks/${e(hook.webhook_id)}`); await refresh(); }) }, 'Delete')),
      await deliveries(hook))));
  };

  const section = h('div');
  const refresh = async () => section.replaceChildren(...(await hookSections()));
  section.replaceChildren(...(hooks.items.length ? await hookSections() : [h('p', { class: 'muted' }, 'No webhook endpoints yet.')]));
  return {
    element: h('section', { 'aria-labelledby': 'webhooks-title' },
      h('h2', { id: 'webhooks-title', tabindex: -1 }, 'Webhooks'), form, created, section),
  };
}

if (session.key) {
  start();
} else {
  signOut();
}
