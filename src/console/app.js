// @ts-check
// The operator console: talks only to the operator API (/api/operator/*) and its SSE feed.
// Every text from customers is put in the page with textContent, never as HTML.
import { api, ApiError, session } from './api.js';
import { customerUpdated, setupCustomerPanel, showCustomer } from './customer.js';
import { $, h, toast } from './dom.js';
import { currentTimeZone, duration, fullTime, lang, setTimeZone, t, when } from './i18n.js';
import { clearUnread, isUnread, markRead, notify, setupNotifications, unlockAudio, updateTitle } from './notify.js';
import './reports.js';
import './listening-page.js';
import { setupAudit } from './audit.js';
import { watchCrises } from './listening.js';
import { loadSaved, setupSavedReplies } from './saved.js';
import { fillSearchOptions, refreshSearchSoon, setTeams, setupSearch, showingQueue } from './search.js';
import { installShortcuts } from './shortcuts.js';
import { loadPresence, loadTeams, presenceChanged, settingsChanged, setupTeams } from './team.js';

/**
 * Shapes read from the operator API (docs/formats.md, "Operator API").
 * @typedef {{ id: string, name: string, initials: string, role: 'agent' | 'admin' }} Me
 * @typedef {{ id: string, name?: string, handle?: string, followers?: number }} CustomerRef
 * @typedef {{
 *   conversationId: string, customer: CustomerRef, channel: string, visibility: string, state: string,
 *   priority: number, reason: string, flags: string[], preview?: string, waitingMs: number,
 *   slaRemainingMs?: number | null, responded?: boolean, assignee?: string, assigneeName?: string
 * }} QueueRow
 * @typedef {{ rows: QueueRow[], open: boolean, reopens?: Record<string, string>, corpusProblems?: string[] }} Queue
 * @typedef {{
 *   id: string, conversationId: string, direction: 'in' | 'out' | 'note', text: string, at: string,
 *   author: { kind: string, name?: string, initials?: string }, channel: string, conversationVisibility: string,
 *   flagged: boolean, action?: string, faqId?: string, quickReplies?: Array<string | { title: string }>,
 *   options?: Array<string | { title: string }>, transfer?: { from: string, to: string, reason?: string }
 * }} Message
 * @typedef {{
 *   id: string, channel: string, visibility: string, state: string, flags: string[], assignee?: string, language?: string,
 *   assigneeName?: string, queue?: { reason: string }
 * }} ConversationInfo
 * @typedef {{ id: string, status: string, openedAt: string, resolvedBy?: string, firstMessage?: string, score?: number, comment?: string, followedUp?: boolean }} EarlierCase
 * @typedef {{ conversation: ConversationInfo, customer: CustomerRef, case?: { id: string }, messages: Message[], earlierCases: EarlierCase[] }} Detail
 */

const state = {
  /** @type {Me | undefined} */
  me: undefined,
  /** @type {Queue} */
  queue: { rows: [], open: true },
  queueFetchedAt: 0,
  /** @type {string | undefined} id of the open conversation */
  current: undefined,
  /** @type {Detail | undefined} */
  detail: undefined,
  /** @type {Me[]} */
  operators: [],
  /** @type {EventSource | undefined} */
  events: undefined,
  /** @type {string | undefined} id of the FAQ suggestion whose edit form is open */
  editingSuggestion: undefined,
  /** @type {Set<string>} conversations whose SLA warning was given (once each) */
  slaWarned: new Set(),
  /** @type {Set<string>} conversations this operator is claiming (their assignment is no news) */
  claiming: new Set(),
};
session.onUnauthorized = () => showLogin(state.me ? t('sessionExpired') : undefined);

/** The operator desk's refusals (src/handoff/operator-desk.ts) and the words the console says for them. */
const KNOWN_REFUSALS = /** @type {const} */ ([
  [/^claim the conversation first/, 'claimFirst'],
  [/is resolved: it cannot be claimed/, 'resolvedNoClaim'],
  [/^"add to FAQ" needs your answer/, 'faqNeedsAnswer'],
  [/^"add to FAQ" needs a question/, 'faqNeedsQuestion'],
  [/is already private$/, 'alreadyPrivate'],
  [/private data is never written in public/, 'privateInPublic'],
]);

/**
 * Turns a server error into words for the operator (claims name who has it).
 * @param {any} err
 */
function explain(err) {
  const msg = err?.message ?? String(err);
  const claimed = /already claimed by (.+)$/.exec(msg) ?? /held by (.+)$/.exec(msg);
  if (claimed) return t('claimedBy', { name: claimed[1] });
  if (err?.status === 429) {
    const s = err.body?.retryAfterSeconds ?? 60;
    return t('tooMany', { wait: s < 120 ? t('seconds', { n: s }) : t('minutes', { n: Math.ceil(s / 60) }) });
  }
  if (err?.status === 503) return t('busy');
  // No answer (status 0), or a proxy's "the server is not there": the action was not done.
  if (err?.status === 0 || err?.status === 502 || err?.status === 504) return t('unreachable');
  if (err?.status === 500) return t('serverFailed');
  // The desk's refusals the operator can meet, in their language (the server's words are English).
  for (const [pattern, key] of KNOWN_REFUSALS) if (pattern.test(msg)) return t(key);
  return t('error', { msg });
}

/** @param {any} err */
function fail(err) {
  if (err?.status === 401) return;
  toast(explain(err), 'error');
}

// ───────────────────────── static labels ─────────────────────────

function applyLabels() {
  document.documentElement.lang = lang;
  updateTitle(`Sportello · ${t('title')}`);
  $('app-title').textContent = t('title');
  $('login-title').textContent = t('loginTitle');
  $('login-help').textContent = t('loginHelp');
  $('login-name-label').textContent = t('name');
  $('login-password-label').textContent = t('password');
  $('login-submit').textContent = t('login');
  $('logout').textContent = t('logout');
  $('queue-title-text').textContent = t('queue');
  $('queue-empty').textContent = t('queueEmpty');
  $('conversation-empty').textContent = t('pickConversation');
  $('claim').textContent = t('claim');
  $('ask-private').textContent = t('askPrivate');
  $('transfer-label').textContent = t('transferTo');
  $('transfer').textContent = t('transfer');
  $('transfer-reason-label').textContent = t('transferReason');
  /** @type {HTMLInputElement} */ ($('transfer-reason')).placeholder = t('transferReasonPlaceholder');
  $('return-to-bot').textContent = t('returnToBot');
  $('history-title').textContent = t('history');
  $('as-note-label').textContent = t('asNote');
  $('visibility-label').textContent = t('visibility');
  $('vis-public').textContent = t('public');
  $('vis-private').textContent = t('private');
  $('add-to-faq-label').textContent = t('addToFaq');
  $('resolve').textContent = t('resolve');
  $('suggestions-title').textContent = t('suggestions');
  $('review-title').textContent = t('reviewTitle');
  $('review-help').textContent = t('reviewHelp');
  $('conversation').setAttribute('aria-label', lang === 'it' ? 'Conversazione' : 'Conversation');
  $('skip').textContent = lang === 'it' ? 'Vai alla conversazione' : 'Skip to the conversation';
  updateComposerMode();
}

// ───────────────────────── login ─────────────────────────

/** @param {string} [message] */
function showLogin(message) {
  state.me = undefined;
  session.csrf = undefined;
  clearUnread();
  state.events?.close();
  state.events = undefined;
  $('desk-view').hidden = true;
  $('review').hidden = true;
  $('reports').hidden = true;
  $('saved-admin').hidden = true;
  $('desk-admin').hidden = true;
  $('audit').hidden = true;
  $('presence').hidden = true;
  $('who').hidden = true;
  $('login-view').hidden = false;
  $('live-status').textContent = '';
  $('hours-status').textContent = '';
  $('timezone').textContent = '';
  const error = $('login-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('login-name').focus();
}

/** @param {{ operator: Me, csrfToken: string, brandName?: string, timezone?: string }} me */
async function startDesk(me) {
  state.me = me.operator;
  session.csrf = me.csrfToken;
  setTimeZone(me.timezone);
  $('timezone').textContent = t('timezone', { tz: currentTimeZone() });
  if (me.brandName) $('brand-name').textContent = me.brandName;
  $('login-view').hidden = true;
  $('desk-view').hidden = false;
  $('who').hidden = false;
  $('me-name').textContent = `${me.operator.name} · ^${me.operator.initials}`;
  state.operators = (await api('GET', '/operators')).operators;
  fillSearchOptions();
  $('review-toggle').hidden = me.operator.role !== 'admin';
  $('reports-toggle').hidden = me.operator.role !== 'admin';
  $('saved-toggle').hidden = me.operator.role !== 'admin';
  $('desk-admin-toggle').hidden = me.operator.role !== 'admin';
  $('audit-toggle').hidden = me.operator.role !== 'admin';
  $('rights-admin').hidden = me.operator.role !== 'admin';
  loadPresence().catch(fail);
  loadTeams().catch(fail);
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
    showLogin(err instanceof ApiError && err.status === 401 ? t('wrongLogin') : explain(err));
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

/** @type {ReturnType<typeof setTimeout> | undefined} */
let queueTimer;
function refreshQueueSoon() {
  refreshSearchSoon();
  clearTimeout(queueTimer);
  queueTimer = setTimeout(() => refreshQueue().catch(fail), 150);
}
/** @type {ReturnType<typeof setTimeout> | undefined} */
let conversationTimer;
let suggestionsDue = false;
/** @param {boolean} withSuggestions */
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

/** @param {boolean} ok */
function setLive(ok) {
  const el = $('live-status');
  el.textContent = ok ? t('live') : t('offline');
  el.className = `pill ${ok ? 'live' : 'warn'}`;
}

/** @param {string[] | undefined} problems */
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

// Channels whose platform stopped answering, or refuses our credentials (their replies wait), with
// why (the sender's last failure): /healthz, then live events.
/** @type {Map<string, string>} */
const channelsDown = new Map();
function showChannelsDown() {
  const banner = $('channel-banner');
  const names = (/** @type {boolean} */ credentials) =>
    [...channelsDown].filter(([, reason]) => (reason === 'credentials') === credentials).map(([name]) => name);
  const down = names(false);
  const refused = names(true);
  banner.textContent = [
    ...(down.length ? [t('channelDown', { channels: down.join(', ') })] : []),
    ...(refused.length ? [t('channelCredentials', { channels: refused.join(', ') })] : []),
  ].join(' ');
  banner.hidden = channelsDown.size === 0;
}
function refreshChannelsDown() {
  fetch('/healthz')
    .then((res) => res.json())
    .then((health) => {
      channelsDown.clear();
      for (const name of health.degraded ?? []) channelsDown.set(name, health.channels?.[name]?.lastFailure ?? '');
      showChannelsDown();
    })
    .catch(() => undefined); // the live events keep it current anyway
}

function connectEvents() {
  state.events?.close();
  const source = new EventSource('/api/operator/events');
  state.events = source;
  /** @param {Event} e */
  const data = (e) => JSON.parse(/** @type {MessageEvent} */ (e).data);
  source.addEventListener('ready', (e) => {
    setLive(true);
    const problems = data(e).corpusProblems;
    if (problems?.length) showCorpusProblems(problems);
    refreshChannelsDown();
    refreshQueueSoon();
  });
  /** @param {Event} e */
  const onConversation = (e) => {
    const event = data(e);
    alertFor(event);
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
  source.addEventListener('suggestion.created', () => state.me?.role === 'admin' && refreshReview().catch(fail));
  source.addEventListener('corpus.failed', (e) => showCorpusProblems(data(e).problems));
  source.addEventListener('corpus.reloaded', () => showCorpusProblems(undefined));
  watchCrises(source, api);
  source.addEventListener('operator.presence', (e) => presenceChanged(data(e)));
  source.addEventListener('desk.settings_changed', () => settingsChanged());
  source.addEventListener('saved_replies.changed', () => loadSaved().catch(fail));
  source.addEventListener('customer.updated', (e) => customerUpdated(data(e).customerIds ?? []));
  source.addEventListener('channel.degraded', (e) => {
    channelsDown.set(data(e).channel, data(e).reason ?? '');
    showChannelsDown();
  });
  source.addEventListener('channel.recovered', (e) => {
    channelsDown.delete(data(e).channel);
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

/**
 * Sound, desktop notification and unread count for what concerns this operator: a new case in
 * the queue, a case given to them (auto-assignment, transfer), a customer's reply on a case they hold.
 * @param {{ type: string, conversationId?: string, operatorId?: string, reason?: string }} event
 */
function alertFor(event) {
  const id = event.conversationId;
  if (!id || !state.me) return;
  const row = state.queue.rows.find((r) => r.conversationId === id);
  const who = row ? customerName(row.customer) : t('customer');
  const looking = id === state.current && document.visibilityState === 'visible' && document.hasFocus();
  if (event.type === 'conversation.escalated') {
    toast(t('newInQueue'));
    notify({ kind: 'new', conversationId: id, title: t('alertNew'), body: event.reason ? t(`reason.${event.reason}`) : '' });
  } else if (event.type === 'conversation.assigned' && event.operatorId === state.me.id && !state.claiming.has(id)) {
    notify({ kind: 'new', conversationId: id, title: t('alertAssigned', { name: who }) });
  } else if (event.type === 'message.received') {
    const held = (row?.assignee ?? (id === state.current ? state.detail?.conversation.assignee : undefined)) === state.me.id;
    if (held) notify({ kind: 'reply', conversationId: id, title: t('alertReply', { name: who }), unread: !looking });
  }
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

/**
 * The SLA of a queue row now: its words and class (ok, soon: under 5 minutes, breached).
 * @param {QueueRow} row
 * @param {number} elapsed ms since the queue was read
 * @returns {{ text: string, cls: 'ok' | 'soon' | 'breached', remaining?: number } | undefined}
 */
function slaText(row, elapsed) {
  if (row.responded) return { text: t('slaMet'), cls: 'ok' };
  if (row.slaRemainingMs === undefined || row.slaRemainingMs === null) return undefined;
  const remaining = row.slaRemainingMs - (state.queue.open ? elapsed : 0);
  if (remaining < 0) return { text: t('slaBreached', { t: duration(-remaining) }), cls: 'breached', remaining };
  return { text: t('slaLeft', { t: duration(remaining) }), cls: remaining < SLA_SOON_MS ? 'soon' : 'ok', remaining };
}
const SLA_SOON_MS = 5 * 60000;

/**
 * Warns once when the SLA of a case waiting in the queue, or held by this operator, is about to
 * breach (under 5 minutes left).
 * @param {QueueRow} row
 * @param {ReturnType<typeof slaText>} sla
 */
function warnSla(row, sla) {
  if (!sla || sla.cls !== 'soon' || state.slaWarned.has(row.conversationId)) return;
  if (row.state !== 'queued' && row.assignee !== state.me?.id) return;
  state.slaWarned.add(row.conversationId);
  notify({ kind: 'sla', conversationId: row.conversationId, title: t('alertSla', { name: customerName(row.customer) }), body: sla.text });
}

/**
 * How a customer is named in the console: name and handle, or a short label from the id.
 * @param {CustomerRef | undefined} customer
 */
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
  if (!showingQueue()) {
    markCurrent();
    return;
  }
  const waiting = rows.filter((r) => r.state === 'queued').length;
  $('queue-count').textContent = waiting > 0 ? String(waiting) : '';
  $('queue-empty').hidden = rows.length > 0;
  $('queue-empty').textContent = t('queueEmpty');
  const list = $('queue-list');
  list.dataset.mode = 'queue';
  const focused = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.conversation;
  list.textContent = '';
  for (const row of rows) {
    const sla = slaText(row, elapsed);
    warnSla(row, sla);
    const mine = row.assignee && row.assignee === state.me?.id;
    const unread = isUnread(row.conversationId);
    const item = h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: `queue-row p${row.priority}${row.state === 'assigned' ? ' held' : ''}${row.conversationId === state.current ? ' current' : ''}${sla?.cls === 'breached' ? ' breached' : ''}${unread ? ' unread' : ''}`,
          'data-conversation': row.conversationId,
          'aria-current': row.conversationId === state.current ? 'true' : undefined,
          onclick: () => openConversation(row.conversationId).catch(fail),
        },
        h(
          'span',
          { class: 'row-top' },
          h('span', { class: `prio p${row.priority}`, title: `P${row.priority}` }, `P${row.priority}`),
          h('span', { class: 'row-name' }, customerName(row.customer)),
          unread ? h('span', { class: 'unread-dot' }, h('span', { class: 'sr-only' }, t('unread'))) : '',
          h('span', { class: 'chip' }, `${row.channel} · ${t(row.visibility)}`),
        ),
        h('span', { class: 'row-reason' }, t(`reason.${row.reason}`), row.flags.includes('private_data_public') ? h('span', { class: 'flag' }, ` · ${t('flagPrivate')}`) : ''),
        row.preview ? h('span', { class: 'row-preview' }, row.preview) : '',
        h(
          'span',
          { class: 'row-bottom' },
          h('span', { class: 'waiting' }, t('waiting', { t: duration(row.waitingMs + elapsed) })),
          sla ? h('span', { class: `sla ${sla.cls}` }, sla.text) : '',
          row.state === 'assigned' ? h('span', { class: `holder${mine ? ' mine' : ''}` }, mine ? t('heldByMe') : t('heldBy', { name: row.assigneeName ?? '' })) : '',
        ),
      ),
    );
    list.append(item);
  }
  if (focused) /** @type {HTMLElement | null} */ (list.querySelector(`[data-conversation="${CSS.escape(focused)}"]`))?.focus();
}

/** The open conversation marked in the pane's list (search results are not redrawn for it). */
function markCurrent() {
  for (const button of /** @type {NodeListOf<HTMLElement>} */ ($('queue-list').querySelectorAll('.queue-row'))) {
    const current = button.dataset.conversation === state.current;
    button.classList.toggle('current', current);
    if (current) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
}

// Countdowns tick every second between refreshes; the queue itself is re-read every 30 s.
setInterval(() => state.me && renderQueueTimes(), 1000);
setInterval(() => state.me && refreshQueue().catch(fail), 30000);
function renderQueueTimes() {
  if (!showingQueue()) return;
  const elapsed = Date.now() - state.queueFetchedAt;
  for (const button of $('queue-list').querySelectorAll('button.queue-row')) {
    const row = state.queue.rows.find((r) => r.conversationId === /** @type {HTMLElement} */ (button).dataset.conversation);
    if (!row) continue;
    const waiting = button.querySelector('.waiting');
    if (waiting) waiting.textContent = t('waiting', { t: duration(row.waitingMs + elapsed) });
    const sla = slaText(row, elapsed);
    warnSla(row, sla);
    const el = button.querySelector('.sla');
    if (sla && el) {
      el.textContent = sla.text;
      el.className = `sla ${sla.cls}`;
      button.classList.toggle('breached', sla.cls === 'breached');
    }
  }
}

// ───────────────────────── a conversation ─────────────────────────

/**
 * Opens a conversation (or re-reads the open one).
 * @param {string} id
 * @param {{ keepComposer?: boolean, withSuggestions?: boolean }} [options]
 */
async function openConversation(id, options = {}) {
  const first = state.current !== id;
  state.current = id;
  const detail = /** @type {Detail} */ (await api('GET', `/conversations/${encodeURIComponent(id)}`));
  if (state.current !== id) return;
  state.detail = detail;
  // Opened by the operator, or re-read while they look at it: read. Re-read in a hidden tab: not yet.
  if (first || (document.visibilityState === 'visible' && document.hasFocus())) markRead(id);
  renderConversation(detail, { keepComposer: Boolean(options.keepComposer && !first), first });
  renderQueue();
  showCustomer(detail.customer.id, { force: first }).catch(fail);
  if (first || options.withSuggestions) await loadSuggestions(id);
  if (first) $('conversation').focus();
}

/** @param {Message} m */
function authorLabel(m) {
  if (m.direction === 'in') return t('customer');
  if (m.author.kind === 'bot') return t('bot');
  return `${m.author.name ?? ''} ^${m.author.initials ?? ''}`;
}

/** @param {Message} m */
function messageKind(m) {
  return m.direction === 'note' ? 'note' : m.direction === 'in' ? 'in' : m.author.kind === 'bot' ? 'bot' : 'operator';
}

/**
 * What the bot did and offered: the FAQ entry it answered with, the options (quick replies) it
 * proposed. The entry is shown on the bot's reply; on the customer's message only in histories
 * recorded before replies carried it.
 * @param {Message} m
 * @param {boolean} faqOnReplies
 */
function botTrace(m, faqOnReplies) {
  const parts = [];
  if (m.faqId && (m.direction !== 'in' || !faqOnReplies)) parts.push(h('span', { class: 'chip faq', title: t('faqUsedTitle') }, t('faqUsed', { id: m.faqId })));
  const options = (m.quickReplies ?? m.options ?? []).map((q) => (typeof q === 'string' ? q : q.title));
  if (options.length > 0) {
    parts.push(
      h('span', { class: 'offered' }, h('span', { class: 'muted' }, t('botOffered')), h('ul', { class: 'options', 'aria-label': t('botOffered') }, options.map((o) => h('li', { class: 'chip option' }, o)))),
    );
  }
  return parts.length > 0 ? h('span', { class: 'msg-trace' }, parts) : '';
}

/**
 * @param {Message} m
 * @param {boolean} faqOnReplies
 */
function messageItem(m, faqOnReplies) {
  const kind = messageKind(m);
  return h(
    'li',
    { class: `msg ${kind}${m.flagged ? ' flagged' : ''}`, 'data-message': m.id, 'data-version': messageVersion(m) },
    h(
      'span',
      { class: 'msg-head' },
      h('span', { class: 'msg-author' }, authorLabel(m)),
      h('span', { class: `chip ${m.conversationVisibility}` }, kind === 'note' ? (m.transfer ? t('transferNote') : t('note')) : `${t(m.conversationVisibility)} · ${m.channel}`),
      h('time', { datetime: m.at, title: fullTime(m.at) }, when(m.at)),
    ),
    m.flagged ? h('span', { class: 'flag-badge' }, `⚠ ${t('privateData')}`) : '',
    h('span', { class: 'msg-text' }, m.text),
    botTrace(m, faqOnReplies),
  );
}

/**
 * What of a message shows: an item is redrawn only when this changes (a flag, a delivery).
 * @param {Message} m
 */
function messageVersion(m) {
  return JSON.stringify([m.text, m.flagged, m.faqId, m.quickReplies ?? m.options, m.conversationVisibility, m.channel]);
}

/**
 * The history, updated in place: new messages are appended, changed ones redrawn, the others
 * left alone (a screen reader on the role=log list then reads only what is new).
 * @param {Message[]} messages
 * @param {string} conversationId
 */
function renderMessages(messages, conversationId) {
  const list = $('messages');
  if (list.dataset.conversation !== conversationId) {
    list.textContent = '';
    list.dataset.conversation = conversationId;
  }
  /** @type {Map<string, HTMLElement>} */
  const shown = new Map();
  for (const li of Array.from(list.children)) shown.set(/** @type {HTMLElement} */ (li).dataset.message ?? '', /** @type {HTMLElement} */ (li));
  const wanted = new Set(messages.map((m) => m.id));
  const faqOnReplies = messages.some((m) => m.direction === 'out' && m.faqId !== undefined);
  for (const [id, li] of shown) if (!wanted.has(id)) li.remove();
  /** @type {HTMLElement | undefined} */
  let previous;
  for (const m of messages) {
    let li = shown.get(m.id);
    if (li && li.dataset.version !== messageVersion(m)) {
      const fresh = messageItem(m, faqOnReplies);
      li.replaceWith(fresh);
      li = fresh;
    } else if (!li) {
      li = messageItem(m, faqOnReplies);
      if (previous) previous.after(li);
      else list.prepend(li);
    } else if (li.previousElementSibling !== (previous ?? null)) {
      // an earlier message arrived late (a linked conversation): keep the order by time
      if (previous) previous.after(li);
      else list.prepend(li);
    }
    previous = li;
  }
}

/**
 * @param {Detail} detail
 * @param {{ keepComposer: boolean, first: boolean }} options
 */
function renderConversation(detail, { keepComposer, first }) {
  const me = /** @type {Me} */ (state.me);
  const { conversation: c, customer, messages, earlierCases } = detail;
  $('conversation-empty').hidden = true;
  $('conversation-body').hidden = false;
  $('conv-customer').textContent = customerName(customer);
  const meta = [`${c.channel} · ${t(c.visibility)}`, t(`state.${c.state}`)];
  if (customer.followers) meta.push(t('followers', { n: customer.followers.toLocaleString(lang) }));
  if (c.queue) meta.push(t(`reason.${c.queue.reason}`));
  if (c.assigneeName) meta.push(c.assignee === me.id ? t('heldByMe') : t('heldBy', { name: c.assigneeName }));
  $('conv-meta').textContent = meta.join(' · ');
  const flags = $('conv-flags');
  flags.textContent = '';
  if (c.flags.includes('private_data_public')) flags.append(h('span', { class: 'flag-badge' }, `⚠ ${t('flagPrivate')}`));

  // Actions depend on who holds it.
  const mine = c.state === 'assigned' && c.assignee === me.id;
  const admin = me.role === 'admin';
  const heldByOther = c.state === 'assigned' && !mine;
  const claim = $('claim');
  claim.hidden = mine || c.state === 'resolved' || (heldByOther && !admin);
  claim.textContent = heldByOther ? t('takeover') : t('claim');
  claim.dataset.takeover = heldByOther ? 'true' : '';
  const canAct = mine || (admin && c.state !== 'resolved');
  $('ask-private').hidden = !canAct || c.visibility === 'private';
  $('return-to-bot').hidden = !canAct;
  const select = $('transfer-to');
  $('transfer-box').hidden = !canAct;
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
  renderMessages(messages, c.id);
  if (atBottom || first) list.scrollTop = list.scrollHeight;

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
        // Its satisfaction answer; the case this conversation follows up (a low score opened it).
        k.score !== undefined ? h('span', { class: k.followedUp ? 'earlier-text followed-up' : 'earlier-text' }, `${t(k.followedUp ? 'followsUpScore' : 'surveyScore', { n: k.score })}${k.comment ? `: “${k.comment}”` : ''}`) : '',
      ),
    );
  }
}

/**
 * The FAQ answers suggested for the conversation, each insertable into the reply.
 * @param {string} id
 */
async function loadSuggestions(id) {
  const list = $('suggestions');
  /** @type {{ suggestions: Array<{ question: string, answer: string, confidence: number }> }} */
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
            onclick: () => insertIntoReply(s.answer),
          },
          t('insert'),
        ),
      ),
    );
  }
}

/**
 * Puts a text into the reply box (after what is there), in reply mode.
 * @param {string} text
 */
export function insertIntoReply(text) {
  const box = $('reply-text');
  $('as-note').checked = false;
  updateComposerMode();
  box.value = box.value.trim() ? `${box.value.trimEnd()}\n${text}` : text;
  box.focus();
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

/**
 * Runs an action on the open conversation with its buttons disabled, then re-reads it and the queue.
 * @template T
 * @param {string | ((result: T) => string) | undefined} label said when it worked
 * @param {() => Promise<T>} fn
 * @returns {Promise<T | undefined>}
 */
async function act(label, fn) {
  const buttons = /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('#conversation button'));
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
    refreshSearchSoon();
  }
}

/** The open conversation's path in the API. */
const here = () => `/conversations/${encodeURIComponent(state.current ?? '')}`;

async function claim() {
  const id = state.current;
  if (!id) return;
  state.claiming.add(id);
  await act(t('claimed'), () => api('POST', `${here()}/claim`, { takeover: $('claim').dataset.takeover === 'true' }));
  setTimeout(() => state.claiming.delete(id), 5000); // its live event has come by then
}
$('claim').addEventListener('click', () => void claim());
$('ask-private').addEventListener('click', () => act(t('askedPrivate'), () => api('POST', `${here()}/ask-private`)));
$('return-to-bot').addEventListener('click', () => act(t('returned'), () => api('POST', `${here()}/return-to-bot`)));
$('transfer').addEventListener('click', () => {
  const to = $('transfer-to').value;
  const name = state.operators.find((o) => o.id === to)?.name ?? to;
  const reasonBox = /** @type {HTMLInputElement} */ ($('transfer-reason'));
  const reason = reasonBox.value.trim();
  if (to) {
    act(t('transferred', { name }), () => api('POST', `${here()}/transfer`, reason ? { operatorId: to, reason } : { operatorId: to })).then((done) => {
      if (done) reasonBox.value = '';
    });
  }
});

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('reply-text').value.trim();
  if (!text || !state.current) return;
  const note = $('as-note').checked;
  const done = await act(note ? t('noteAdded') : t('sent'), () =>
    note ? api('POST', `${here()}/note`, { text }) : api('POST', `${here()}/reply`, { text, visibility: $('reply-visibility').value }),
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

function resolve() {
  if (!state.current || $('resolve-form').hidden) return;
  const addToFaq = $('add-to-faq').checked;
  void act((/** @type {{ suggestionId?: string } | undefined} */ result) => (result?.suggestionId ? t('resolvedWithFaq') : t('resolved')), () =>
    api('POST', `${here()}/resolve`, { addToFaq }),
  ).then((result) => {
    // Only once resolved: a refused resolve keeps the operator's choice for their next try.
    if (result !== undefined) $('add-to-faq').checked = false;
  });
}
$('resolve-form').addEventListener('submit', (event) => {
  event.preventDefault();
  resolve();
});

// ───────────────────────── keyboard ─────────────────────────

/**
 * Opens the next (or previous) conversation of the list shown.
 * @param {1 | -1} step
 */
function move(step) {
  const rows = /** @type {HTMLElement[]} */ (Array.from(document.querySelectorAll('#queue-list .queue-row')));
  if (rows.length === 0) return;
  const at = rows.findIndex((r) => r.dataset.conversation === state.current);
  const next = rows[at < 0 ? (step > 0 ? 0 : rows.length - 1) : (at + step + rows.length) % rows.length];
  const id = next?.dataset.conversation;
  if (id) openConversation(id).catch(fail);
}

/** @param {boolean} note */
function focusComposer(note) {
  if (!state.current || $('composer').hidden) return;
  $('as-note').checked = note;
  updateComposerMode();
  $('reply-text').focus();
}

installShortcuts(
  {
    next: () => move(1),
    previous: () => move(-1),
    claim: () => {
      if (state.current && !$('claim').hidden) void claim();
    },
    reply: () => focusComposer(false),
    note: () => focusComposer(true),
    resolve,
    search: () => document.getElementById('search-q')?.focus(),
  },
  () => state.me !== undefined,
);
document.addEventListener('pointerdown', unlockAudio);
// Coming back to the tab: the conversation on screen is read.
const seeCurrent = () => {
  if (state.current && document.visibilityState === 'visible') {
    markRead(state.current);
    if (showingQueue()) renderQueue();
  }
};
window.addEventListener('focus', seeCurrent);
document.addEventListener('visibilitychange', seeCurrent);
document.addEventListener('keydown', unlockAudio);

// ───────────────────────── FAQ suggestions (admins) ─────────────────────────

/**
 * A FAQ suggestion as the review reads it (docs/formats.md).
 * @typedef {{
 *   id: string, kind: 'new_entry' | 'add_question' | 'update_answer', entryId?: string, locale: string,
 *   questions: string[], answer?: string, answerShort?: string, operatorAnswer?: string, change?: any
 * }} Suggestion
 */

/**
 * The kind of a suggestion, as a chip.
 * @param {Suggestion} s
 */
function suggestionTitle(s) {
  if (s.kind === 'new_entry') return t('newEntry', { id: s.entryId ?? '' });
  if (s.kind === 'update_answer') return t('updateAnswer', { id: s.entryId });
  return t('addQuestion', { id: s.entryId });
}

/**
 * What approving changes: questions added, answers before and after.
 * @param {Suggestion} s
 * @returns {HTMLElement[]}
 */
function changeView(s) {
  const change = s.change;
  if (!change) return [];
  if (change.missing) return [h('p', { class: 'review-warning' }, t('entryMissing', { id: change.entryId }))];
  /** @type {HTMLElement[]} */
  const parts = [];
  /** @param {string} label @param {{ before?: string, after: string } | undefined} d */
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
        change.addedQuestions.map((/** @type {string} */ q) => h('li', { class: 'review-added' }, `+ ${q}`)),
        change.knownQuestions.map((/** @type {string} */ q) => h('li', { class: 'muted' }, t('questionKnown', { q }))),
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

/**
 * The form that edits a suggestion before approving: questions, answer, answer_short, entry, locale.
 * @param {Suggestion} s
 * @param {HTMLElement} item
 */
function editForm(s, item) {
  /** @param {string} name @param {string} label @param {HTMLElement} control */
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
          h('button', { type: 'button', class: 'ghost', onclick: () => (answer.value = s.operatorAnswer ?? '') }, t('useOperatorAnswer')),
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
    /** @type {Record<string, unknown>} */
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
    if (/** @type {string[]} */ (body.questions).join('\n') === s.questions.join('\n')) delete body.questions;
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
  /** @type {{ suggestions: Suggestion[] }} */
  const { suggestions } = await api('GET', '/suggestions?status=pending');
  $('review-toggle').textContent = t('reviewButton', { n: suggestions.length });
  // A suggestion being edited is not redrawn under the reviewer's hands (a new one only updates the count).
  if (state.editingSuggestion && suggestions.some((s) => s.id === state.editingSuggestion)) return;
  state.editingSuggestion = undefined;
  const list = $('review-list');
  list.textContent = '';
  if (suggestions.length === 0) list.append(h('li', { class: 'muted' }, t('reviewEmpty')));
  for (const s of suggestions) {
    /** @param {string} verb @param {string} done */
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
setupSearch({
  open: (id) => void openConversation(id).catch(fail),
  current: () => state.current,
  name: customerName,
  showQueue: renderQueue,
  operators: () => state.operators,
  fail,
});
setupCustomerPanel({
  open: (id) => void openConversation(id).catch(fail),
  currentCase: () => state.detail?.case?.id,
  earlierCase: (caseId) => /** @type {{ score?: number, followedUp?: boolean } | undefined} */ (state.detail?.earlierCases.find((k) => k.id === caseId)),
  fail,
});
setupSavedReplies({
  conversation: () => state.detail?.conversation,
  visibility: () => ($('as-note').checked ? 'private' : $('reply-visibility').value),
  isAdmin: () => state.me?.role === 'admin',
  fail,
});
setupTeams({
  me: () => state.me,
  operators: () => state.operators,
  teamsChanged: setTeams,
  fail,
});
setupAudit({ open: (id) => void openConversation(id).catch(fail), fail });
setupNotifications((id) => void openConversation(id).catch(fail));
api('GET', '/me').then(startDesk, (err) => {
  if (err.status !== 401) showLogin(explain(err));
});
