// @ts-check
// The customer panel beside a conversation: the person behind it (every record linked to this
// one: handles per channel, language, reach), tags and notes that outlive a case, every past case
// of the person (outcome, satisfaction), and linking or unlinking another record of the same
// person (found by searching conversations). Reads and writes /api/operator/customers/*.
import { api, query } from './api.js';
import { $, h, toast } from './dom.js';
import { t, when } from './i18n.js';

/**
 * The profile (docs/operator-desk-api.md, "Customers as people").
 * @typedef {{ id: string, name: string | null, handle: string | null, channel: string, language: string | null, reach: number | null, tags: string[], links: string[] }} ProfileCustomer
 * @typedef {{ customer_id: string, channel: string, handle: string | null, name: string | null, reach: number | null, tags: string[] }} Handle
 * @typedef {{ id: string, customer_id: string, text: string, at: string, operator: { id: string, name: string } }} Note
 * @typedef {{
 *   id: string, customer_id: string, status: string, outcome: string, opened_at: string, resolved_at: string | null,
 *   resolved_by: { id: string, name: string } | null, satisfaction: { score: number, comment?: string | null } | null,
 *   first_message: string | null, conversations: Array<{ id: string, channel: string, visibility: string, state: string }>
 * }} PastCase
 * @typedef {{ customer: ProfileCustomer, handles: Handle[], notes: Note[], cases: PastCase[] }} Profile
 */

/**
 * @typedef {{
 *   open: (conversationId: string) => void,
 *   currentCase: () => string | undefined,
 *   earlierCase: (caseId: string) => { score?: number, followedUp?: boolean } | undefined,
 *   fail: (err: unknown) => void,
 * }} CustomerHost
 */
/** @type {CustomerHost} */
let host;
/** @type {string | undefined} the customer record shown */
let shown;
/** @type {Profile | undefined} */
let profile;

const path = (/** @type {string} */ id) => `/customers/${encodeURIComponent(id)}`;

/** @param {{ name: string | null, handle: string | null, customer_id?: string, id?: string }} c */
function label(c) {
  if (c.name && c.handle) return `${c.name} (@${c.handle})`;
  if (c.handle) return `@${c.handle}`;
  if (c.name) return c.name;
  const id = c.customer_id ?? c.id ?? '';
  return `${t('customer')} ${id.slice(id.indexOf(':') + 1, id.indexOf(':') + 7)}`;
}

/**
 * Shows the profile of a customer record (read again when `force`, or when another is asked).
 * @param {string} customerId
 * @param {{ force?: boolean }} [options]
 */
export async function showCustomer(customerId, options = {}) {
  if (shown === customerId && profile && !options.force) {
    renderCases(profile);
    return;
  }
  shown = customerId;
  /** @type {Profile} */
  const answer = await api('GET', path(customerId));
  if (shown !== customerId) return;
  render(answer);
}

/**
 * A live `customer.updated` event: the panel is read again when it concerns the person shown.
 * @param {string[]} customerIds
 */
export function customerUpdated(customerIds) {
  if (!shown || !profile) return;
  const mine = new Set([shown, ...profile.handles.map((x) => x.customer_id)]);
  if (customerIds.some((id) => mine.has(id))) showCustomer(shown, { force: true }).catch(host.fail);
}

/** @param {Profile} p */
function render(p) {
  profile = p;
  const c = p.customer;
  $('customer-panel').hidden = false;
  $('customer-card').replaceChildren(
    h('p', { class: 'customer-name' }, label(c)),
    h(
      'ul',
      { class: 'handles', 'aria-label': t('handles') },
      p.handles.map((x) =>
        h(
          'li',
          { 'data-customer': x.customer_id },
          h('span', { class: 'chip' }, x.channel),
          ` ${label(x)}`,
          x.reach !== null ? h('span', { class: 'muted' }, ` · ${t('followers', { n: x.reach })}`) : '',
          x.customer_id !== c.id && c.links.includes(x.customer_id)
            ? h('button', { type: 'button', class: 'ghost small', 'aria-label': t('unlinkLabel', { name: label(x) }), onclick: () => unlink(x.customer_id) }, t('unlink'))
            : '',
        ),
      ),
    ),
    h('p', { class: 'muted' }, [c.language ? t('languageIs', { language: c.language }) : '', c.reach !== null ? t('followers', { n: c.reach }) : ''].filter(Boolean).join(' · ')),
  );
  $('tags-input').value = c.tags.join(', ');
  $('customer-tags').replaceChildren(...c.tags.map((tag) => h('li', { class: 'chip tag' }, tag)));
  $('customer-notes').replaceChildren(
    ...(p.notes.length === 0
      ? [h('li', { class: 'muted' }, t('noNotes'))]
      : p.notes.map((n) => h('li', { class: 'customer-note' }, h('span', { class: 'muted' }, `${n.operator.name} · `, h('time', { datetime: n.at }, when(n.at))), h('span', { class: 'note-text' }, n.text)))),
  );
  $('link-candidates').textContent = '';
  renderCases(p);
}

/**
 * Every case of the person (all linked records), newest first; the open one marked.
 * @param {Profile} p
 */
function renderCases(p) {
  const current = host.currentCase();
  const list = $('earlier');
  list.textContent = '';
  const cases = p.cases.filter((k) => k.id !== current);
  if (cases.length === 0) list.append(h('li', { class: 'muted' }, t('noEarlierCases')));
  for (const k of cases) {
    const channels = [...new Set(k.conversations.map((x) => x.channel))].join(', ');
    const first = k.conversations[0];
    // A case opened because of a low satisfaction score (the conversation's own earlier cases say so).
    const followedUp = host.earlierCase(k.id)?.followedUp === true;
    list.append(
      h(
        'li',
        { 'data-case': k.id },
        h(
          'span',
          { class: 'muted' },
          `${t('opened', { d: when(k.opened_at) })} · ${channels} · ${t(`outcome.${k.outcome}`)}${k.resolved_by ? ` · ${k.resolved_by.name}` : ''}`,
          k.satisfaction ? ` · ${t('satisfaction', { score: k.satisfaction.score })}` : '',
        ),
        k.satisfaction?.comment ? h('span', { class: 'earlier-text' }, `“${k.satisfaction.comment}”`) : '',
        followedUp ? h('span', { class: 'earlier-text followed-up' }, t('followsUp')) : '',
        k.first_message ? h('span', { class: 'earlier-text' }, k.first_message) : '',
        first ? h('button', { type: 'button', class: 'ghost small', onclick: () => host.open(first.id) }, t('openCase')) : '',
      ),
    );
  }
}

/** @param {string} other */
async function unlink(other) {
  if (!shown) return;
  try {
    render(await api('DELETE', `${path(shown)}/links/${encodeURIComponent(other)}`));
    toast(t('unlinked'), 'ok');
  } catch (err) {
    host.fail(err);
  }
}

/** @param {string} other */
async function link(other) {
  if (!shown) return;
  try {
    render(await api('POST', `${path(shown)}/links`, { customer_id: other }));
    toast(t('linked'), 'ok');
  } catch (err) {
    host.fail(err);
  }
}

/** Customers found by words (through the conversations search), other than those already here. */
async function findCandidates() {
  const words = $('link-q').value.trim();
  const list = $('link-candidates');
  list.textContent = '';
  if (!words || !profile) return;
  /** @type {{ conversations: Array<{ channel: string, customer: { id: string, name: string | null, handle: string | null } }> }} */
  const found = await api('GET', `/conversations${query({ view: 'all', q: words, page_size: 50 })}`);
  const here = new Set(profile.handles.map((x) => x.customer_id));
  /** @type {Map<string, { id: string, name: string | null, handle: string | null, channel: string }>} */
  const candidates = new Map();
  for (const c of found.conversations) if (!here.has(c.customer.id) && !candidates.has(c.customer.id)) candidates.set(c.customer.id, { ...c.customer, channel: c.channel });
  if (candidates.size === 0) list.append(h('li', { class: 'muted' }, t('noCandidates')));
  for (const c of candidates.values()) {
    list.append(h('li', {}, h('button', { type: 'button', class: 'small', onclick: () => link(c.id) }, t('linkTo', { name: `${label(c)} · ${c.channel}` }))));
  }
}

/** @param {CustomerHost} app */
export function setupCustomerPanel(app) {
  host = app;
  $('customer-title').textContent = t('customerTitle');
  $('tags-label').textContent = t('tagsLabel');
  $('tags-save').textContent = t('saveTags');
  $('notes-title').textContent = t('customerNotes');
  $('note-label').textContent = t('customerNoteLabel');
  $('note-save').textContent = t('addCustomerNote');
  $('links-title').textContent = t('linkTitle');
  $('link-label').textContent = t('linkSearchLabel');
  $('link-search').textContent = t('findRecords');
  $('earlier-title').textContent = t('pastCases');
  $('tags-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!shown) return;
    const tags = $('tags-input').value.split(',').map((x) => x.trim()).filter(Boolean);
    try {
      await api('PUT', `${path(shown)}/tags`, { tags });
      toast(t('tagsSaved'), 'ok');
      await showCustomer(shown, { force: true });
    } catch (err) {
      host.fail(err);
    }
  });
  $('note-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('note-text').value.trim();
    if (!shown || !text) return;
    try {
      await api('POST', `${path(shown)}/notes`, { text });
      $('note-text').value = '';
      toast(t('customerNoteAdded'), 'ok');
      await showCustomer(shown, { force: true });
    } catch (err) {
      host.fail(err);
    }
  });
  $('link-form').addEventListener('submit', (event) => {
    event.preventDefault();
    findCandidates().catch(host.fail);
  });
}
