// @ts-check
// The audit trail's page (admins): who did what, when and from where, newest first, filtered by
// operator, action and days (the team's), a page at a time ("load more"). A conversation it names
// opens in the desk. Reads only GET /api/operator/audit and /operators (docs/operator-desk-api.md).
import { api, ApiError, query } from './api.js';
import { $, h } from './dom.js';
import { actionLabel, AUDIT_ACTIONS, fullTime, t, when } from './i18n.js';

/**
 * @typedef {{ id: string, at: string, operator_id: string, operator_name: string | null, action: string, target: string | null, from: string | null }} AuditRow
 * @typedef {{ open: (conversationId: string) => void, fail: (err: unknown) => void }} AuditHost
 */

/** @type {AuditHost} */
let host;
/** The cursor of the next page (undefined: none). */
/** @type {string | undefined} */
let next;
/** Operators' names by id, for targets that name an operator. */
/** @type {Map<string, string>} */
let names = new Map();
let shown = 0;
/** Increases with each new listing: an older answer arriving late is dropped. */
let generation = 0;

const select = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ ($(id));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id));

/** The filters as the API's query (empty ones left out). */
function filters() {
  return { operator: select('audit-operator').value, action: select('audit-action').value, from: input('audit-from').value, to: input('audit-to').value };
}

/** @param {AuditRow} e */
function who(e) {
  if (e.operator_name) return e.operator_name;
  return e.operator_id === 'cli' ? t('auditCli') : e.operator_id;
}

/** @param {AuditRow} e */
function target(e) {
  if (!e.target) return '–';
  if (e.action.startsWith('conversation.')) {
    const id = e.target;
    // An in-page link to the conversation pane, which shows it.
    return h('a', { href: '#conversation', 'data-conversation': id, onclick: (/** @type {MouseEvent} */ event) => {
      event.preventDefault();
      host.open(id);
    } }, id);
  }
  if (e.action.startsWith('operator.')) return names.get(e.target) ?? e.target;
  return e.target;
}

/** @param {AuditRow} e */
function row(e) {
  return h(
    'tr',
    { 'data-action': e.action },
    h('td', {}, h('time', { datetime: e.at, title: fullTime(e.at) }, when(e.at))),
    h('td', {}, who(e)),
    h('td', {}, actionLabel(e.action)),
    h('td', { class: 'audit-target' }, target(e)),
    h('td', {}, e.from === 'cli' ? t('auditCli') : e.from ?? '–'),
  );
}

/**
 * Reads a page: the first one of the filters (replacing the table), or the next one (appended).
 * @param {boolean} more
 */
async function load(more) {
  const mine = more ? generation : ++generation;
  const status = $('audit-status');
  status.textContent = '';
  /** @type {{ entries: AuditRow[], next_cursor: string | null }} */
  let answer;
  try {
    answer = await api('GET', `/audit${query({ ...filters(), limit: 50, cursor: more ? next : undefined })}`);
  } catch (err) {
    if (mine !== generation) return;
    status.textContent = t('auditFailed', { error: err instanceof ApiError ? err.message : String(err) });
    return;
  }
  if (mine !== generation) return;
  const rows = $('audit-rows');
  if (!more) {
    rows.replaceChildren();
    shown = 0;
  }
  rows.append(...answer.entries.map(row));
  shown += answer.entries.length;
  next = answer.next_cursor ?? undefined;
  $('audit-more').hidden = next === undefined;
  status.textContent = shown === 0 ? t('auditEmpty') : shown === 1 ? t('auditCountOne') : t('auditCount', { n: shown });
}

/** Fills the operator filter (everyone, each operator, the command line), keeping the choice. */
async function loadOperators() {
  /** @type {{ operators: Array<{ id: string, name: string }> }} */
  const answer = await api('GET', '/operators');
  names = new Map(answer.operators.map((o) => [o.id, o.name]));
  const operator = select('audit-operator');
  const chosen = operator.value;
  operator.replaceChildren(
    h('option', { value: '' }, t('auditAll')),
    ...answer.operators.map((o) => h('option', { value: o.id }, o.name)),
    h('option', { value: 'cli' }, t('auditCli')),
  );
  operator.value = chosen;
}

/** Shows or hides the page (admins only: app.js hides the button from agents, the API answers them 403). */
async function toggle() {
  const panel = $('audit');
  panel.hidden = !panel.hidden;
  $('audit-toggle').setAttribute('aria-expanded', String(!panel.hidden));
  if (panel.hidden) return;
  await loadOperators();
  await load(false);
}

/** @param {AuditHost} given */
export function setupAudit(given) {
  host = given;
  $('audit-toggle').textContent = t('auditButton');
  $('audit-title').textContent = t('auditTitle');
  $('audit-help').textContent = t('auditHelp');
  for (const [id, key] of [['audit-operator-label', 'auditOperator'], ['audit-action-label', 'auditAction'], ['audit-from-label', 'auditFrom'], ['audit-to-label', 'auditTo'], ['audit-col-when', 'auditWhen'], ['audit-col-who', 'auditWho'], ['audit-col-what', 'auditWhat'], ['audit-col-target', 'auditTarget'], ['audit-col-where', 'auditWhere'], ['audit-more', 'auditMore']]) {
    $(id).textContent = t(key);
  }
  select('audit-action').replaceChildren(h('option', { value: '' }, t('auditAllActions')), ...AUDIT_ACTIONS.map((a) => h('option', { value: a }, actionLabel(a))));
  select('audit-operator').replaceChildren(h('option', { value: '' }, t('auditAll')));
  $('audit-filters').addEventListener('submit', (event) => event.preventDefault());
  for (const id of ['audit-operator', 'audit-action', 'audit-from', 'audit-to']) $(id).addEventListener('change', () => void load(false));
  $('audit-more').addEventListener('click', () => void load(true));
  $('audit-toggle').addEventListener('click', () => void toggle().catch(host.fail));
}
