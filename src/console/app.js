// The operator console: talks only to the operator API (/api/operator/*) and its SSE feed.
// Every text from customers is put in the page with textContent, never as HTML.
import { duration, lang, t, when } from './i18n.js';
import './reports.js';
import { watchCrises } from './listening.js';

const $ = (id) => document.getElementById(id);

const state = {
  me: undefined,
  csrf: undefined,
  queue: { rows: [], open: true },
  queueFetchedAt: 0,
  current: undefined, // id of the open conversation
  detail: undefined,
  operators: [],
  events: undefined,
  knownQueued: new Set(),
  editingSuggestion: undefined, // id of the FAQ suggestion whose edit form is open
};

// ───────────────────────── API ─────────────────────────

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (state.csrf) headers['x-csrf-token'] = state.csrf;
  }
  const res = await fetch(`/api/operator${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  if (res.status === 401 && path !== '/login') {
    showLogin(state.me ? t('sessionExpired') : undefined);
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// ───────────────────────── small DOM helpers ─────────────────────────

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false || v === null) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let toastTimer;
function toast(message, kind = 'info') {
  const el = $('toast');
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), kind === 'error' ? 8000 : 4000);
}

/** Turns a server error into words for the operator (claims name who has it). */
function explain(err) {
  const msg = err?.message ?? String(err);
  const claimed = /already claimed by (.+)$/.exec(msg) ?? /held by (.+)$/.exec(msg);
  if (claimed) return t('claimedBy', { name: claimed[1] });
  if (err?.status === 429) {
    const s = err.body?.retryAfterSeconds ?? 60;
    return t('tooMany', { wait: s < 120 ? t('seconds', { n: s }) : t('minutes', { n: Math.ceil(s / 60) }) });
  }
  if (err?.status === 503) return t('busy');
  return t('error', { msg });
}

function fail(err) {
  if (err?.status === 401) return;
  toast(explain(err), 'error');
}

// ───────────────────────── static labels ─────────────────────────

function applyLabels() {
  document.documentElement.lang = lang;
  document.title = `Sportello · ${t('title')}`;
  $('app-title').textContent = t('title');
  $('login-title').textContent = t('loginTitle');
  $('login-help').textContent = t('loginHelp');
  $('login-name-label').textContent = t('name');
  $('login-password-label').textContent = t('password');
  $('login-submit').textContent = t('login');
  $('logout').textContent = t('logout');
  $('queue-title').firstChild.textContent = `${t('queue')} `;
  $('queue-empty').textContent = t('queueEmpty');
  $('conversation-empty').textContent = t('pickConversation');
  $('claim').textContent = t('claim');
  $('ask-private').textContent = t('askPrivate');
  $('transfer-label').textContent = t('transferTo');
  $('transfer').textContent = t('transfer');
  $('return-to-bot').textContent = t('returnToBot');
  $('history-title').textContent = t('history');
  $('as-note-label').textContent = t('asNote');
  $('visibility-label').textContent = t('visibility');
  $('vis-public').textContent = t('public');
  $('vis-private').textContent = t('private');
  $('add-to-faq-label').textContent = t('addToFaq');
  $('resolve').textContent = t('resolve');
  $('suggestions-title').textContent = t('suggestions');
  $('earlier-title').textContent = t('earlierCases');
  $('review-title').textContent = t('reviewTitle');
  $('review-help').textContent = t('reviewHelp');
  $('conversation').setAttribute('aria-label', lang === 'it' ? 'Conversazione' : 'Conversation');
  document.querySelector('.skip').textContent = lang === 'it' ? 'Vai alla conversazione' : 'Skip to the conversation';
  updateComposerMode();
}

// ───────────────────────── login ─────────────────────────

function showLogin(message) {
  state.me = undefined;
  state.csrf = undefined;
  state.events?.close();
  state.events = undefined;
  $('desk-view').hidden = true;
  $('review').hidden = true;
  $('reports').hidden = true;
  $('who').hidden = true;
  $('login-view').hidden = false;
  $('live-status').textContent = '';
  $('hours-status').textContent = '';
  const error = $('login-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('login-name').focus();
}

async function startDesk(me) {
  state.me = me.operator;
  state.csrf = me.csrfToken;
  if (me.brandName) $('brand-name').textContent = me.brandName;
  $('login-view').hidden = true;
  $('desk-view').hidden = false;
  $('who').hidden = false;
  $('me-name').textContent = `${me.operator.name} · ^${me.operator.initials}`;
  state.operators = (await api('GET', '/operators')).operators;
  $('review-toggle').hidden = me.operator.role !== 'admin';
  $('reports-toggle').hidden = me.operator.role !== 'admin';
  if (me.operator.role === 'admin') await refreshReview();
  connectEvents();
  await refreshQueue();
  if (state.current) await openConversation(state.current);
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('login-name').value.trim();
  const password = $('login-password').value;
  if (!name || !password) {
    showLogin(t('wrongLogin'));
    return;
  }
  $('login-submit').disabled = true;
  try {
    const me = await api('POST', '/login', { name, password });
    $('login-password').value = '';
    await startDesk(me);
  } catch (err) {
    showLogin(err.status === 401 ? t('wrongLogin') : explain(err));
  } finally {
    $('login-submit').disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/logout');
  } catch (err) {
    fail(err);
  }
  showLogin();
});

// ───────────────────────── live events ─────────────────────────

let queueTimer;
function refreshQueueSoon() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(() => refreshQueue().catch(fail), 150);
}
let conversationTimer;
let suggestionsDue = false;
function refreshConversationSoon(withSuggestions) {
  clearTimeout(conversationTimer);
  // Several events come together: remember that one of them was a new customer message.
  suggestionsDue ||= withSuggestions;
  conversationTimer = setTimeout(() => {
    const withNew = suggestionsDue;
    suggestionsDue = false;
    if (state.current) openConversation(state.current, { keepComposer: true, withSuggestions: withNew }).catch(fail);
  }, 150);
}

function setLive(ok) {
  const el = $('live-status');
  el.textContent = ok ? t('live') : t('offline');
  el.className = `pill ${ok ? 'live' : 'warn'}`;
}

function showCorpusProblems(problems) {
  const banner = $('corpus-banner');
  if (problems && problems.length > 0) {
    banner.textContent = '';
    banner.append(h('strong', {}, t('corpusFailed')), h('ul', {}, problems.slice(0, 5).map((p) => h('li', {}, p))));
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

// Channels whose platform stopped answering (their replies wait): /healthz, then live events.
const channelsDown = new Set();
function showChannelsDown() {
  const banner = $('channel-banner');
  banner.textContent = t('channelDown', { channels: [...channelsDown].join(', ') });
  banner.hidden = channelsDown.size === 0;
}
function refreshChannelsDown() {
  fetch('/healthz')
    .then((res) => res.json())
    .then((health) => {
      channelsDown.clear();
      for (const name of health.degraded ?? []) channelsDown.add(name);
      showChannelsDown();
    })
    .catch(() => undefined); // the live events keep it current anyway
}

function connectEvents() {
  state.events?.close();
  const source = new EventSource('/api/operator/events');
  state.events = source;
  source.addEventListener('ready', (e) => {
    setLive(true);
    const problems = JSON.parse(e.data).corpusProblems;
    if (problems?.length) showCorpusProblems(problems);
    refreshChannelsDown();
    refreshQueueSoon();
  });
  const onConversation = (e) => {
    const event = JSON.parse(e.data);
    refreshQueueSoon();
    if (event.conversationId && event.conversationId === state.current) refreshConversationSoon(event.type === 'message.received');
  };
  for (const type of [
    'conversation.escalated',
    'conversation.assigned',
    'conversation.updated',
    'conversation.resolved',
    'conversation.returned_to_bot',
    'message.received',
    'message.sent',
    'message.failed',
    'privacy.flagged',
  ]) {
    source.addEventListener(type, onConversation);
  }
  source.addEventListener('conversation.escalated', () => toast(t('newInQueue')));
  source.addEventListener('suggestion.created', () => state.me?.role === 'admin' && refreshReview().catch(fail));
  source.addEventListener('corpus.failed', (e) => showCorpusProblems(JSON.parse(e.data).problems));
  source.addEventListener('corpus.reloaded', () => showCorpusProblems(undefined));
  watchCrises(source, api);
  source.addEventListener('channel.degraded', (e) => {
    channelsDown.add(JSON.parse(e.data).channel);
    showChannelsDown();
  });
  source.addEventListener('channel.recovered', (e) => {
    channelsDown.delete(JSON.parse(e.data).channel);
    showChannelsDown();
  });
  source.addEventListener('error', () => {
    setLive(false);
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (logged out?): check the session, then reconnect.
      setTimeout(() => api('GET', '/me').then(() => connectEvents(), () => undefined), 3000);
    }
  });
}

// ───────────────────────── queue ─────────────────────────

async function refreshQueue() {
  const queue = await api('GET', '/queue');
  state.queue = queue;
  state.queueFetchedAt = Date.now();
  // The queue can report a failure; only a corpus.reloaded event clears the banner.
  if (queue.corpusProblems?.length) showCorpusProblems(queue.corpusProblems);
  renderQueue();
}

function slaText(row, elapsed) {
  if (row.responded) return { text: t('slaMet'), cls: 'ok' };
  if (row.slaRemainingMs === undefined || row.slaRemainingMs === null) return undefined;
  const remaining = row.slaRemainingMs - (state.queue.open ? elapsed : 0);
  if (remaining < 0) return { text: t('slaBreached', { t: duration(-remaining) }), cls: 'breached' };
  return { text: t('slaLeft', { t: duration(remaining) }), cls: remaining < 5 * 60000 ? 'soon' : 'ok' };
}

function customerName(customer) {
  if (!customer) return '';
  if (customer.name && customer.handle) return `${customer.name} (@${customer.handle})`;
  if (customer.handle) return `@${customer.handle}`;
  if (customer.name) return customer.name;
  // No name from the platform (web chat): a short, stable label from the id.
  const id = String(customer.id ?? '');
  return `${t('customer')} ${id.slice(id.indexOf(':') + 1, id.indexOf(':') + 7)}`;
}

function renderQueue() {
  const { rows, open, reopens } = state.queue;
  const elapsed = Date.now() - state.queueFetchedAt;
  const hours = $('hours-status');
  hours.textContent = open ? t('open') : t('closedUntil', { when: reopens?.[lang] ?? '' });
  hours.className = `pill ${open ? 'live' : 'closed'}`;
  const waiting = rows.filter((r) => r.state === 'queued').length;
  $('queue-count').textContent = waiting > 0 ? String(waiting) : '';
  $('queue-empty').hidden = rows.length > 0;
  const list = $('queue-list');
  const focused = document.activeElement?.dataset?.conversation;
  list.textContent = '';
  for (const row of rows) {
    const sla = slaText(row, elapsed);
    const mine = row.assignee && row.assignee === state.me?.id;
    const item = h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: `queue-row p${row.priority}${row.state === 'assigned' ? ' held' : ''}${row.conversationId === state.current ? ' current' : ''}${sla?.cls === 'breached' ? ' breached' : ''}`,
          'data-conversation': row.conversationId,
          'aria-current': row.conversationId === state.current ? 'true' : undefined,
          onclick: () => openConversation(row.conversationId).catch(fail),
        },
        h(
          'span',
          { class: 'row-top' },
          h('span', { class: `prio p${row.priority}`, title: `P${row.priority}` }, `P${row.priority}`),
          h('span', { class: 'row-name' }, customerName(row.customer)),
          h('span', { class: 'chip' }, `${row.channel} · ${t(row.visibility)}`),
        ),
        h('span', { class: 'row-reason' }, t(`reason.${row.reason}`), row.flags.includes('private_data_public') ? h('span', { class: 'flag' }, ` · ${t('flagPrivate')}`) : ''),
        row.preview ? h('span', { class: 'row-preview' }, row.preview) : '',
        h(
          'span',
          { class: 'row-bottom' },
          h('span', { class: 'waiting' }, t('waiting', { t: duration(row.waitingMs + elapsed) })),
          sla ? h('span', { class: `sla ${sla.cls}` }, sla.text) : '',
          row.state === 'assigned' ? h('span', { class: `holder${mine ? ' mine' : ''}` }, mine ? t('heldByMe') : t('heldBy', { name: row.assigneeName })) : '',
        ),
      ),
    );
    list.append(item);
  }
  if (focused) list.querySelector(`[data-conversation="${CSS.escape(focused)}"]`)?.focus();
}

// Countdowns tick every second between refreshes; the queue itself is re-read every 30 s.
setInterval(() => state.me && renderQueueTimes(), 1000);
setInterval(() => state.me && refreshQueue().catch(fail), 30000);
function renderQueueTimes() {
  const elapsed = Date.now() - state.queueFetchedAt;
  for (const button of $('queue-list').querySelectorAll('.queue-row')) {
    const row = state.queue.rows.find((r) => r.conversationId === button.dataset.conversation);
    if (!row) continue;
    button.querySelector('.waiting').textContent = t('waiting', { t: duration(row.waitingMs + elapsed) });
    const sla = slaText(row, elapsed);
    const el = button.querySelector('.sla');
    if (sla && el) {
      el.textContent = sla.text;
      el.className = `sla ${sla.cls}`;
      button.classList.toggle('breached', sla.cls === 'breached');
    }
  }
}

// ───────────────────────── a conversation ─────────────────────────

async function openConversation(id, options = {}) {
  const first = state.current !== id;
  state.current = id;
  const detail = await api('GET', `/conversations/${encodeURIComponent(id)}`);
  if (state.current !== id) return;
  state.detail = detail;
  renderConversation(detail, { keepComposer: options.keepComposer && !first });
  renderQueue();
  if (first || options.withSuggestions) await loadSuggestions(id);
  if (first) $('conversation').focus();
}

function authorLabel(m) {
  if (m.direction === 'in') return t('customer');
  if (m.author.kind === 'bot') return t('bot');
  return `${m.author.name} ^${m.author.initials}`;
}

function renderConversation(detail, { keepComposer }) {
  const { conversation: c, customer, messages, earlierCases } = detail;
  $('conversation-empty').hidden = true;
  $('conversation-body').hidden = false;
  $('conv-customer').textContent = customerName(customer);
  const meta = [`${c.channel} · ${t(c.visibility)}`, t(`state.${c.state}`)];
  if (customer.followers) meta.push(t('followers', { n: customer.followers.toLocaleString(lang) }));
  if (c.queue) meta.push(t(`reason.${c.queue.reason}`));
  if (c.assigneeName) meta.push(c.assignee === state.me.id ? t('heldByMe') : t('heldBy', { name: c.assigneeName }));
  $('conv-meta').textContent = meta.join(' · ');
  const flags = $('conv-flags');
  flags.textContent = '';
  if (c.flags.includes('private_data_public')) flags.append(h('span', { class: 'flag-badge' }, `⚠ ${t('flagPrivate')}`));

  // Actions depend on who holds it.
  const mine = c.state === 'assigned' && c.assignee === state.me.id;
  const admin = state.me.role === 'admin';
  const heldByOther = c.state === 'assigned' && !mine;
  const claim = $('claim');
  claim.hidden = mine || c.state === 'resolved' || (heldByOther && !admin);
  claim.textContent = heldByOther ? t('takeover') : t('claim');
  claim.dataset.takeover = heldByOther ? 'true' : '';
  const canAct = mine || (admin && c.state !== 'resolved');
  $('ask-private').hidden = !canAct || c.visibility === 'private';
  $('return-to-bot').hidden = !canAct;
  const select = $('transfer-to');
  select.parentElement.hidden = !canAct;
  select.textContent = '';
  for (const op of state.operators.filter((o) => o.id !== c.assignee)) select.append(h('option', { value: op.id }, `${op.name} (^${op.initials})`));
  $('resolve-form').hidden = !canAct;
  const composer = $('composer');
  const resolved = c.state === 'resolved';
  composer.hidden = resolved;
  $('conv-closed').hidden = !resolved;
  $('conv-closed').textContent = resolved ? t('closedCase') : '';
  composer.classList.toggle('locked', !canAct);
  $('send').disabled = !canAct && !$('as-note').checked;
  $('reply-visibility').value = keepComposer ? $('reply-visibility').value : c.visibility;
  $('reply-visibility').disabled = c.visibility === 'private';
  if (!keepComposer) $('reply-text').value = '';
  updateComposerMode();

  // The whole case: public and private conversations, notes, flagged posts.
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.textContent = '';
  for (const m of messages) {
    const kind = m.direction === 'note' ? 'note' : m.direction === 'in' ? 'in' : m.author.kind === 'bot' ? 'bot' : 'operator';
    list.append(
      h(
        'li',
        { class: `msg ${kind}${m.flagged ? ' flagged' : ''}`, 'data-message': m.id },
        h(
          'span',
          { class: 'msg-head' },
          h('span', { class: 'msg-author' }, authorLabel(m)),
          h('span', { class: `chip ${m.conversationVisibility}` }, kind === 'note' ? t('note') : `${t(m.conversationVisibility)} · ${m.channel}`),
          h('time', { datetime: m.at }, when(m.at)),
        ),
        m.flagged ? h('span', { class: 'flag-badge' }, `⚠ ${t('privateData')}`) : '',
        h('span', { class: 'msg-text' }, m.text),
      ),
    );
  }
  if (atBottom || !keepComposer) list.scrollTop = list.scrollHeight;

  const earlier = $('earlier');
  earlier.textContent = '';
  if (earlierCases.length === 0) earlier.append(h('li', { class: 'muted' }, t('noEarlierCases')));
  for (const k of earlierCases) {
    earlier.append(
      h(
        'li',
        {},
        h('span', { class: 'muted' }, `${t('opened', { d: when(k.openedAt) })} · ${t(`state.${k.status === 'open' ? 'queued' : 'resolved'}`)}${k.resolvedBy ? ` · ${k.resolvedBy}` : ''}`),
        k.firstMessage ? h('span', { class: 'earlier-text' }, k.firstMessage) : '',
      ),
    );
  }
}

async function loadSuggestions(id) {
  const list = $('suggestions');
  const { suggestions } = await api('GET', `/conversations/${encodeURIComponent(id)}/suggestions`);
  if (state.current !== id) return;
  list.textContent = '';
  if (suggestions.length === 0) list.append(h('li', { class: 'muted' }, t('noSuggestions')));
  for (const s of suggestions) {
    list.append(
      h(
        'li',
        { class: 'suggestion' },
        h('span', { class: 'suggestion-q' }, s.question, h('span', { class: 'confidence' }, ` ${Math.round(s.confidence * 100)}%`)),
        h('span', { class: 'suggestion-a' }, s.answer),
        h(
          'button',
          {
            type: 'button',
            class: 'small',
            'aria-label': `${t('insert')}: ${s.question}`,
            onclick: () => {
              const box = $('reply-text');
              $('as-note').checked = false;
              updateComposerMode();
              box.value = box.value.trim() ? `${box.value.trimEnd()}\n${s.answer}` : s.answer;
              box.focus();
            },
          },
          t('insert'),
        ),
      ),
    );
  }
}

function updateComposerMode() {
  const note = $('as-note').checked;
  $('composer').classList.toggle('note-mode', note);
  $('reply-label').textContent = note ? t('noteLabel') : t('replyLabel');
  $('send').textContent = note ? t('addNote') : t('send');
  $('reply-visibility').hidden = note;
  const publicReply = !note && $('reply-visibility').value === 'public';
  $('signature').textContent = publicReply && state.me ? t('signature', { initials: state.me.initials }) : '';
  const c = state.detail?.conversation;
  if (c && state.me) {
    const canAct = (c.state === 'assigned' && c.assignee === state.me.id) || (state.me.role === 'admin' && c.state !== 'resolved');
    $('send').disabled = !note && !canAct;
    const holder = c.state === 'assigned' && c.assignee !== state.me.id ? c.assigneeName : undefined;
    if (!note && !canAct) $('signature').textContent = holder ? t('handledBy', { name: holder }) : t('mustClaim');
  }
}
$('as-note').addEventListener('change', updateComposerMode);
$('reply-visibility').addEventListener('change', updateComposerMode);

async function act(label, fn) {
  const buttons = document.querySelectorAll('#conversation button');
  buttons.forEach((b) => (b.disabled = true));
  try {
    const result = await fn();
    if (label) toast(typeof label === 'function' ? label(result) : label, 'ok');
    return result;
  } catch (err) {
    fail(err);
    return undefined;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    if (state.current) await openConversation(state.current, { keepComposer: true }).catch(fail);
    await refreshQueue().catch(fail);
  }
}

$('claim').addEventListener('click', () =>
  act(t('claimed'), () => api('POST', `/conversations/${encodeURIComponent(state.current)}/claim`, { takeover: $('claim').dataset.takeover === 'true' })),
);
$('ask-private').addEventListener('click', () => act(t('askedPrivate'), () => api('POST', `/conversations/${encodeURIComponent(state.current)}/ask-private`)));
$('return-to-bot').addEventListener('click', () => act(t('returned'), () => api('POST', `/conversations/${encodeURIComponent(state.current)}/return-to-bot`)));
$('transfer').addEventListener('click', () => {
  const to = $('transfer-to').value;
  const name = state.operators.find((o) => o.id === to)?.name ?? to;
  if (to) act(t('transferred', { name }), () => api('POST', `/conversations/${encodeURIComponent(state.current)}/transfer`, { operatorId: to }));
});

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('reply-text').value.trim();
  if (!text || !state.current) return;
  const note = $('as-note').checked;
  const id = encodeURIComponent(state.current);
  const done = await act(note ? t('noteAdded') : t('sent'), () =>
    note ? api('POST', `/conversations/${id}/note`, { text }) : api('POST', `/conversations/${id}/reply`, { text, visibility: $('reply-visibility').value }),
  );
  if (done) {
    $('reply-text').value = '';
    $('reply-text').focus();
  }
});
// The customer sees the operator typing (web chat): told at most every 3 s while a reply is written.
let typingToldAt = 0;
$('reply-text').addEventListener('input', () => {
  const c = state.detail?.conversation;
  if (!c || !state.me || $('as-note').checked || !$('reply-text').value.trim()) return;
  if (c.state !== 'assigned' || c.assignee !== state.me.id || Date.now() - typingToldAt < 3000) return;
  typingToldAt = Date.now();
  api('POST', `/conversations/${encodeURIComponent(c.id)}/typing`).catch(() => undefined); // only a courtesy
});
// Ctrl/Cmd+Enter sends.
$('reply-text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) $('composer').requestSubmit();
});

$('resolve-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const addToFaq = $('add-to-faq').checked;
  act((result) => (result?.suggestionId ? t('resolvedWithFaq') : t('resolved')), () =>
    api('POST', `/conversations/${encodeURIComponent(state.current)}/resolve`, { addToFaq }),
  ).then(() => ($('add-to-faq').checked = false));
});

// ───────────────────────── FAQ suggestions (admins) ─────────────────────────

/** The kind of a suggestion, as a chip. */
function suggestionTitle(s) {
  if (s.kind === 'new_entry') return t('newEntry', { id: s.entryId ?? '' });
  if (s.kind === 'update_answer') return t('updateAnswer', { id: s.entryId });
  return t('addQuestion', { id: s.entryId });
}

/** What approving changes: questions added, answers before and after. */
function changeView(s) {
  const change = s.change;
  if (!change) return [];
  if (change.missing) return [h('p', { class: 'review-warning' }, t('entryMissing', { id: change.entryId }))];
  const parts = [];
  const diff = (label, d) => {
    if (!d) return;
    parts.push(h('span', { class: 'review-label' }, label));
    if (d.before !== undefined) parts.push(h('del', { class: 'review-before' }, d.before));
    parts.push(h('ins', { class: 'review-after' }, d.after));
  };
  if (change.existing) {
    parts.push(h('span', { class: 'review-label' }, t('changesEntry', { id: change.entryId })));
    parts.push(
      h(
        'ul',
        { class: 'review-questions' },
        change.addedQuestions.map((q) => h('li', { class: 'review-added' }, `+ ${q}`)),
        change.knownQuestions.map((q) => h('li', { class: 'muted' }, t('questionKnown', { q }))),
      ),
    );
    diff(t('answerLabel'), change.answer);
    diff(t('answerShortLabel'), change.answerShort);
    if (!change.answer) parts.push(h('span', { class: 'muted' }, t('answerUnchanged')));
    if (change.answerShortKept) parts.push(h('p', { class: 'review-warning' }, t('answerShortKept', { text: change.answerShortKept })));
    if (change.empty) parts.push(h('p', { class: 'review-warning' }, t('changesNothing')));
  } else {
    parts.push(h('span', { class: 'review-label' }, t('questionsLabel')));
    parts.push(h('ul', { class: 'review-questions' }, s.questions.map((q) => h('li', {}, q))));
    if (s.answer) parts.push(h('span', { class: 'review-label' }, t('answerLabel')), h('span', { class: 'review-answer' }, s.answer));
    if (s.answerShort) parts.push(h('span', { class: 'review-label' }, t('answerShortLabel')), h('span', { class: 'review-answer' }, s.answerShort));
  }
  return parts;
}

/** The form that edits a suggestion before approving: questions, answer, answer_short, entry, locale. */
function editForm(s, item) {
  const field = (name, label, control) => {
    control.id = `edit-${s.id}-${name}`;
    return h('span', { class: 'review-field' }, h('label', { class: 'review-label', for: control.id }, label), control);
  };
  const questions = h('textarea', { name: 'questions', rows: Math.max(2, s.questions.length + 1) });
  questions.value = s.questions.join('\n');
  const answer = h('textarea', { name: 'answer', rows: 4 });
  answer.value = s.answer ?? '';
  const answerShort = h('textarea', { name: 'answerShort', rows: 2 });
  answerShort.value = s.answerShort ?? '';
  const entry = h('input', { name: 'entryId', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  entry.value = s.entryId ?? '';
  const locale = h('select', { name: 'locale' }, h('option', { value: 'it' }, 'it'), h('option', { value: 'en' }, 'en'));
  locale.value = s.locale;
  const form = h(
    'form',
    { class: 'review-edit' },
    field('questions', t('questionsOnePerLine'), questions),
    field('answer', s.kind === 'new_entry' ? t('answerLabel') : t('newAnswerLabel'), answer),
    s.operatorAnswer && s.operatorAnswer !== s.answer
      ? h(
          'span',
          { class: 'review-operator' },
          h('span', { class: 'muted' }, t('operatorAnswer')),
          h('span', { class: 'review-answer' }, s.operatorAnswer),
          h('button', { type: 'button', class: 'ghost', onclick: () => (answer.value = s.operatorAnswer) }, t('useOperatorAnswer')),
        )
      : '',
    field('answerShort', t('answerShortLabel'), answerShort),
    field('entryId', t('entryLabel'), entry),
    field('locale', t('localeLabel'), locale),
    h(
      'span',
      { class: 'review-actions' },
      h('button', { type: 'submit', class: 'success' }, t('save')),
      h('button', { type: 'button', onclick: () => ((state.editingSuggestion = undefined), refreshReview().catch(fail)) }, t('cancel')),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      questions: questions.value.split('\n').map((q) => q.trim()).filter((q) => q.length > 0),
      answer: answer.value.trim(),
      answerShort: answerShort.value.trim(),
      entryId: entry.value.trim(),
      locale: locale.value,
    };
    // Only what changed is sent (an existing entry keeps its locale; an untouched empty answer stays absent).
    if (body.answer === (s.answer ?? '')) delete body.answer;
    if (body.answerShort === (s.answerShort ?? '')) delete body.answerShort;
    if (body.entryId === (s.entryId ?? '')) delete body.entryId;
    if (body.locale === s.locale) delete body.locale;
    if (body.questions.join('\n') === s.questions.join('\n')) delete body.questions;
    try {
      await api('POST', `/suggestions/${encodeURIComponent(s.id)}/edit`, body);
      state.editingSuggestion = undefined;
      toast(t('suggestionSaved'), 'ok');
      await refreshReview();
    } catch (err) {
      fail(err);
    }
  });
  state.editingSuggestion = s.id;
  item.replaceChildren(h('span', { class: 'chip' }, `${suggestionTitle(s)} · ${s.locale}`), form);
  questions.focus();
}

async function refreshReview() {
  const { suggestions } = await api('GET', '/suggestions?status=pending');
  $('review-toggle').textContent = t('reviewButton', { n: suggestions.length });
  // A suggestion being edited is not redrawn under the reviewer's hands (a new one only updates the count).
  if (state.editingSuggestion && suggestions.some((s) => s.id === state.editingSuggestion)) return;
  state.editingSuggestion = undefined;
  const list = $('review-list');
  list.textContent = '';
  if (suggestions.length === 0) list.append(h('li', { class: 'muted' }, t('reviewEmpty')));
  for (const s of suggestions) {
    const decide = (verb, done) => async () => {
      try {
        await api('POST', `/suggestions/${encodeURIComponent(s.id)}/${verb}`);
        toast(done, 'ok');
      } catch (err) {
        fail(err);
      }
      await refreshReview().catch(fail);
    };
    const item = h('li', { class: 'review-item', 'data-suggestion': s.id });
    item.append(
      h('span', { class: 'chip' }, `${suggestionTitle(s)} · ${s.locale}`),
      ...changeView(s),
      s.operatorAnswer && s.operatorAnswer !== s.answer
        ? h('details', { class: 'review-operator' }, h('summary', {}, t('operatorAnswer')), h('span', { class: 'review-answer' }, s.operatorAnswer))
        : '',
      h(
        'span',
        { class: 'review-actions' },
        h('button', { type: 'button', class: 'success', disabled: s.change?.empty || undefined, onclick: decide('approve', t('approved')) }, t('approve')),
        h('button', { type: 'button', onclick: () => editForm(s, item) }, t('edit')),
        h('button', { type: 'button', onclick: decide('reject', t('rejected')) }, t('reject')),
      ),
    );
    list.append(item);
  }
}

$('review-toggle').addEventListener('click', () => {
  const panel = $('review');
  panel.hidden = !panel.hidden;
  $('review-toggle').setAttribute('aria-expanded', String(!panel.hidden));
  if (!panel.hidden) refreshReview().catch(fail);
});

// ───────────────────────── start ─────────────────────────

applyLabels();
api('GET', '/me').then(startDesk, (err) => {
  if (err.status !== 401) showLogin(explain(err));
});
