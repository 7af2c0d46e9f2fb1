// @ts-check
// The left pane's views: the live queue (default), or any view of GET /api/operator/conversations
// (mine, unassigned, open, waiting on the customer, resolved, all) with words to search, filters
// and pages. Results are read again (at most once a second) when live events say something changed.
import { api, query } from './api.js';
import { $, h } from './dom.js';
import { t, when } from './i18n.js';

/**
 * One conversation found (docs/operator-desk-api.md).
 * @typedef {{
 *   id: string, customer: { id: string, name: string | null, handle: string | null }, channel: string,
 *   visibility: string, state: string, language: string | null, priority: number | null, reason: string | null,
 *   assignee: { id: string, name: string } | null,
 *   last_message: { text: string, at: string, from: 'customer' | 'bot' | 'operator' } | null,
 *   match?: { id: string, text: string, at: string, from: 'customer' | 'bot' | 'operator' | 'note' } | null, updated_at: string
 * }} Hit
 * @typedef {{ conversations: Hit[], total: number, page: number, page_size: number }} Results
 */

const PAGE_SIZE = 25;
const VIEWS = ['queue', 'mine', 'unassigned', 'open', 'waiting', 'resolved', 'all'];
const FILTERS = ['channel', 'language', 'state', 'priority', 'reason', 'tag', 'operator', 'from', 'to'];

const search = {
  view: 'queue',
  page: 1,
  /** @type {Results | undefined} */
  results: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer: undefined,
  lastRead: 0,
};

/**
 * What the pane needs from the app.
 * @typedef {{
 *   open: (id: string) => void,
 *   current: () => string | undefined,
 *   name: (customer: { id: string, name?: string, handle?: string }) => string,
 *   showQueue: () => void,
 *   operators: () => Array<{ id: string, name: string }>,
 *   fail: (err: unknown) => void,
 * }} SearchHost
 */
/** @type {SearchHost} */
let host;

/** True while the pane shows the live queue (not a search). */
export function showingQueue() {
  return search.view === 'queue' && !hasCriteria();
}

function hasCriteria() {
  return $('search-q').value.trim() !== '' || FILTERS.some((f) => /** @type {HTMLInputElement | HTMLSelectElement} */ ($(`filter-${f}`)).value !== '');
}

/** The query of the view, words and filters shown (a team's view: its open conversations; words typed over the live queue: every conversation). */
function params() {
  const team = search.view.startsWith('team:') ? search.view.slice(5) : undefined;
  const view = team ? 'open' : search.view === 'queue' ? 'all' : search.view;
  /** @type {Record<string, string | number | undefined>} */
  const p = { view, team, q: $('search-q').value.trim(), page: search.page, page_size: PAGE_SIZE };
  for (const f of FILTERS) p[f] = /** @type {HTMLInputElement | HTMLSelectElement} */ ($(`filter-${f}`)).value.trim();
  return p;
}

/** Reads the results of the view and draws them (or goes back to the live queue). */
export async function runSearch() {
  const list = $('queue-list');
  const view = /** @type {HTMLSelectElement} */ ($('view'));
  $('queue-title-text').textContent = search.view === 'queue' && !showingQueue() ? t('views.all') : view.selectedOptions[0]?.textContent ?? t('queue');
  if (showingQueue()) {
    $('queue-title-text').textContent = t('queue');
    search.results = undefined;
    $('search-pages').hidden = true;
    host.showQueue();
    return;
  }
  search.lastRead = Date.now();
  /** @type {Results} */
  const results = await api('GET', `/conversations${query(params())}`);
  // A page past the end (results went away while it was shown): the last page instead.
  if (results.conversations.length === 0 && results.total > 0 && search.page > 1) {
    search.page = Math.max(1, Math.ceil(results.total / results.page_size));
    return runSearch();
  }
  search.results = results;
  list.dataset.mode = 'search';
  $('queue-empty').hidden = results.conversations.length > 0;
  $('queue-empty').textContent = t('searchNothing');
  list.replaceChildren(...results.conversations.map(row));
  renderPages(results);
}

/**
 * A result as a row of the pane (a button opening the conversation).
 * @param {Hit} hit
 */
function row(hit) {
  const current = hit.id === host.current();
  const last = hit.last_message;
  return h(
    'li',
    {},
    h(
      'button',
      {
        type: 'button',
        class: `queue-row result-row p${hit.priority ?? 3}${current ? ' current' : ''}${hit.state === 'resolved' ? ' resolved' : ''}`,
        'data-conversation': hit.id,
        'aria-current': current ? 'true' : undefined,
        onclick: () => host.open(hit.id),
      },
      h(
        'span',
        { class: 'row-top' },
        hit.priority ? h('span', { class: `prio p${hit.priority}`, title: `P${hit.priority}` }, `P${hit.priority}`) : '',
        h('span', { class: 'row-name' }, host.name({ id: hit.customer.id, name: hit.customer.name ?? undefined, handle: hit.customer.handle ?? undefined })),
        h('span', { class: 'chip' }, `${hit.channel} · ${t(hit.visibility)}`),
      ),
      h('span', { class: 'row-reason' }, t(`state.${hit.state}`), hit.reason ? ` · ${t(`reason.${hit.reason}`)}` : '', hit.assignee ? ` · ${t('heldBy', { name: hit.assignee.name })}` : ''),
      hit.match
        ? h('span', { class: 'row-preview row-match', title: when(hit.match.at) }, `${t(`from.${hit.match.from}`)}: `, ...highlighted(hit.match.text, searchedWords()))
        : last
          ? h('span', { class: 'row-preview' }, `${t(`from.${last.from}`)}: ${last.text}`)
          : '',
      h('span', { class: 'row-bottom' }, h('time', { datetime: hit.updated_at }, when(hit.updated_at))),
    ),
  );
}

/** Lower case without accents, as the server's search folds. @param {string} text */
const fold = (text) => text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();

/** The words typed in the search box, folded. */
function searchedWords() {
  return [...new Set(fold($('search-q').value).match(/[\p{L}\p{N}]+/gu) ?? [])];
}

/**
 * The text as nodes, the words a searched word starts marked (<mark>): where the result matched.
 * @param {string} text
 * @param {string[]} words
 * @returns {Array<string | HTMLElement>}
 */
function highlighted(text, words) {
  if (words.length === 0) return [text];
  /** @type {Array<string | HTMLElement>} */
  const out = [];
  let at = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const start = m.index ?? 0;
    if (!words.some((w) => fold(m[0]).startsWith(w))) continue;
    if (start > at) out.push(text.slice(at, start));
    out.push(h('mark', {}, m[0]));
    at = start + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** @param {Results} results */
function renderPages(results) {
  const pages = Math.max(1, Math.ceil(results.total / results.page_size));
  $('search-pages').hidden = results.total === 0 || (results.total <= results.page_size && results.page === 1);
  const first = results.total === 0 ? 0 : (results.page - 1) * results.page_size + 1;
  const last = Math.min(results.total, results.page * results.page_size);
  $('search-count').textContent = t('searchCount', { first, last, total: results.total });
  /** @type {HTMLButtonElement} */ ($('search-prev')).disabled = results.page <= 1;
  /** @type {HTMLButtonElement} */ ($('search-next')).disabled = results.page >= pages;
  $('queue-count').textContent = String(results.total);
}

/** Live events: a search shown is read again, at most once a second. */
export function refreshSearchSoon() {
  if (showingQueue()) return;
  clearTimeout(search.timer);
  const wait = Math.max(150, 1000 - (Date.now() - search.lastRead));
  search.timer = setTimeout(() => runSearch().catch(host.fail), wait);
}

/**
 * The teams' queue views join the list of views.
 * @param {Array<{ id: string, name: string }>} teams
 */
export function setTeams(teams) {
  const view = /** @type {HTMLSelectElement} */ ($('view'));
  const chosen = view.value;
  view.replaceChildren(
    ...VIEWS.map((v) => h('option', { value: v }, t(`views.${v}`))),
    ...teams.map((team) => h('option', { value: `team:${team.id}` }, t('teamView', { name: team.name }))),
  );
  view.value = [...view.options].some((o) => o.value === chosen) ? chosen : 'queue';
  if (view.value !== search.view) {
    search.view = view.value;
    runSearch().catch(host.fail);
  }
}

/** Fills the pane's labels and lists (after the login: the operators are known). */
export function fillSearchOptions() {
  const operator = /** @type {HTMLSelectElement} */ ($('filter-operator'));
  const chosen = operator.value;
  operator.replaceChildren(
    h('option', { value: '' }, t('any')),
    h('option', { value: 'me' }, t('me')),
    ...host.operators().map((o) => h('option', { value: o.id }, o.name)),
  );
  operator.value = chosen;
}

/** @param {SearchHost} app */
export function setupSearch(app) {
  host = app;
  const view = /** @type {HTMLSelectElement} */ ($('view'));
  $('view-label').textContent = t('view');
  view.replaceChildren(...VIEWS.map((v) => h('option', { value: v }, t(`views.${v}`))));
  $('search-label').textContent = t('search');
  $('search-q').setAttribute('placeholder', t('searchPlaceholder'));
  $('search-submit').textContent = t('search');
  $('filters-summary').textContent = t('filters');
  $('filters-clear').textContent = t('clearFilters');
  $('search-prev').textContent = t('previousPage');
  $('search-next').textContent = t('nextPage');
  /** @type {Array<[string, string]>} */
  const labels = FILTERS.map((f) => [`filter-${f}-label`, `filter.${f}`]);
  for (const [id, key] of labels) $(id).textContent = t(key);
  const select = (/** @type {string} */ id, /** @type {Array<[string, string]>} */ options) =>
    /** @type {HTMLSelectElement} */ ($(id)).replaceChildren(h('option', { value: '' }, t('any')), ...options.map(([v, label]) => h('option', { value: v }, label)));
  select('filter-language', [['it', 'italiano'], ['en', 'English']]);
  select('filter-state', ['queued', 'assigned', 'awaiting_private', 'bot', 'resolved'].map((s) => [s, t(`state.${s}`)]));
  select('filter-priority', [['1', 'P1'], ['2', 'P2'], ['3', 'P3']]);
  select('filter-reason', ['human_request', 'low_confidence', 'negative_sentiment', 'vip', 'crisis', 'private_case', 'faq_escalate', 'policy', 'handler', 'handler_failed'].map((r) => [r, t(`reason.${r}`)]));
  fillSearchOptions();

  const go = () => {
    search.page = 1;
    runSearch().catch(host.fail);
  };
  view.addEventListener('change', () => {
    search.view = view.value;
    go();
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    go();
  });
  for (const f of FILTERS) $(`filter-${f}`).addEventListener('change', go);
  $('filters-clear').addEventListener('click', () => {
    for (const f of FILTERS) /** @type {HTMLInputElement | HTMLSelectElement} */ ($(`filter-${f}`)).value = '';
    $('search-q').value = '';
    go();
  });
  $('search-prev').addEventListener('click', () => {
    search.page = Math.max(1, search.page - 1);
    runSearch().catch(host.fail);
  });
  $('search-next').addEventListener('click', () => {
    search.page += 1;
    runSearch().catch(host.fail);
  });
}
