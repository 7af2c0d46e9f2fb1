// @ts-check
// The console's Listening page (docs/listening.md "Praise"): posts heard about the brand, newest
// first with "load more", filtered by class (care, praise, noise, spam), each with its topic,
// sentiment, author and reach. Praise has a one-click thank-you (a public reply signed with the
// operator's initials, sent by the server through the channel's outbox) where the platform lets
// the brand reply, else a link to open the post there; any author can be marked as an advocate.
// Reads and writes only the operator API (GET listening/heard, POST listening/heard/:id/thank and
// /advocate). Self-contained: app.js only imports it.
import { api, query } from './api.js';
import { $, h, toast } from './dom.js';
import { fullTime, t, when } from './i18n.js';

/**
 * A heard post as GET listening/heard gives it.
 * @typedef {{ id: string, platform_id: string, channel: string, at: string, kind: string, class: 'care' | 'praise' | 'noise' | 'spam',
 *   text: string, language: string, sentiment: number, topic: string | null, author: { id: string, handle: string | null, followers: number | null },
 *   customer_id: string, advocate: boolean, erased: boolean, thank: { allowed: boolean, reason?: string, link?: string },
 *   thanked: { operator_id: string, name: string, initials: string, at: string, text: string, status?: string } | null }} Heard
 */

const CLASSES = ['praise', 'care', 'noise', 'spam'];
const PAGE = 20;

/** The page's state: what is shown, and where the next page starts. */
const state = {
  /** @type {string | undefined} */
  next: undefined,
  loaded: false,
  /** The topic the list is narrowed to (a click on a post's topic), if any. */
  /** @type {string | undefined} */
  topic: undefined,
};

/** @param {unknown} err */
const errorText = (err) => /** @type {any} */ (err)?.body?.error ?? /** @type {any} */ (err)?.message ?? String(err);

/** @param {Heard['author']} author */
const authorName = (author) => (author.handle ? `@${author.handle}` : author.id);

/**
 * One post's line of facts: class, topic, sentiment, author and reach, time.
 * @param {Heard} item
 */
function meta(item) {
  return h(
    'span',
    { class: 'heard-meta' },
    h('span', { class: 'pill' }, t(`heardClass.${item.class}`)),
    h('strong', {}, authorName(item.author)),
    item.author.followers !== null ? h('span', {}, t('heardFollowers', { n: item.author.followers.toLocaleString() })) : '',
    item.advocate ? h('span', { class: 'pill advocate' }, t('advocate')) : '',
    // A click on the topic shows only the posts of that topic.
    item.topic ? h('button', { type: 'button', class: 'ghost small heard-topic', onclick: () => showTopic(item.topic ?? undefined) }, t('heardTopic', { topic: item.topic })) : '',
    h('span', {}, t('heardSentiment', { n: item.sentiment.toFixed(2) })),
    h('span', {}, item.kind === 'post' ? t('heardUnaddressed') : item.kind === 'mention' ? t('heardMention') : ''),
    h('time', { datetime: item.at, title: fullTime(item.at) }, when(item.at)),
  );
}

/**
 * The thank-you control of a praise post: who thanked, the button, or the link to the platform.
 * @param {Heard} item
 * @param {HTMLElement} row
 */
function thankControl(item, row) {
  if (item.thanked) {
    return h(
      'span',
      { class: 'thanked', role: 'status' },
      t('thankedBy', { name: item.thanked.name, initials: item.thanked.initials, when: when(item.thanked.at) }),
      // Given up by the sender (the platform refused it): said, as for any reply that failed.
      item.thanked.status === 'dead' ? h('strong', { class: 'form-error' }, ` ${t('thankFailed')}`) : '',
    );
  }
  if (!item.thank.allowed) {
    return h(
      'span',
      { class: 'heard-actions' },
      item.thank.link ? h('a', { href: item.thank.link, target: '_blank', rel: 'noopener noreferrer' }, t('thankOnPlatform')) : '',
      item.thank.reason === 'not_addressed' ? h('span', { class: 'muted' }, t('thankNotAddressed')) : '',
    );
  }
  return h(
    'button',
    {
      type: 'button',
      class: 'primary small',
      onclick: async (/** @type {Event} */ event) => {
        const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
        button.disabled = true;
        try {
          const done = await api('POST', `/listening/heard/${encodeURIComponent(item.id)}/thank`);
          toast(done.already ? t('thankedAlready', { name: done.thanked.name }) : t('thankedNow'), 'ok');
          redraw(row, { ...item, thanked: done.thanked });
        } catch (err) {
          button.disabled = false;
          toast(t('listeningFailed', { error: errorText(err) }), 'error');
        }
      },
    },
    t('thankButton'),
  );
}

/**
 * The advocate toggle of a post's author.
 * @param {Heard} item
 */
function advocateControl(item) {
  return h(
    'button',
    {
      type: 'button',
      class: 'ghost small',
      'aria-pressed': String(item.advocate),
      onclick: async (/** @type {Event} */ event) => {
        const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
        button.disabled = true;
        try {
          const done = await api('POST', `/listening/heard/${encodeURIComponent(item.id)}/advocate`, { advocate: !item.advocate });
          toast(t(done.advocate ? 'advocateMarked' : 'advocateUnmarked', { name: authorName(item.author) }), 'ok');
          // Every post of the author shows the mark.
          for (const row of document.querySelectorAll(`#heard-list [data-customer="${CSS.escape(item.customer_id)}"]`)) {
            const shown = /** @type {HTMLElement & { heard?: Heard }} */ (row);
            if (shown.heard) redraw(shown, { ...shown.heard, advocate: done.advocate });
          }
        } catch (err) {
          button.disabled = false;
          toast(t('listeningFailed', { error: errorText(err) }), 'error');
        }
      },
    },
    item.advocate ? t('advocateUnmark') : t('advocateMark'),
  );
}

/**
 * Draws (or redraws) one post's row.
 * @param {HTMLElement & { heard?: Heard }} row
 * @param {Heard} item
 */
function redraw(row, item) {
  row.heard = item;
  row.className = `heard-item ${item.class}`;
  row.dataset.heard = item.id;
  row.dataset.customer = item.customer_id;
  row.replaceChildren(
    meta(item),
    h('p', { class: 'heard-text', lang: item.language }, item.text),
    // An author whose data was erased is neither thanked nor marked.
    item.erased ? '' : h('span', { class: 'heard-actions' }, item.class === 'praise' ? thankControl(item, row) : '', advocateControl(item)),
  );
}

/**
 * Narrows the list to one topic (or shows every topic again).
 * @param {string | undefined} topic
 */
function showTopic(topic) {
  state.topic = topic;
  const chip = $('listening-topic');
  chip.hidden = !topic;
  chip.textContent = topic ? t('heardTopicClear', { topic }) : '';
  void load();
}

/**
 * Loads the first page (or the next one with `more`).
 * @param {boolean} [more]
 */
async function load(more = false) {
  const list = $('heard-list');
  const status = $('listening-status');
  status.textContent = '';
  try {
    const page = await api('GET', `/listening/heard${query({ class: $('listening-class').value, topic: state.topic, page_size: PAGE, before: more ? state.next : undefined })}`);
    if (!more) list.replaceChildren();
    for (const item of /** @type {Heard[]} */ (page.items)) {
      const row = h('li');
      redraw(row, item);
      list.append(row);
    }
    if (!more && page.items.length === 0) list.append(h('li', { class: 'muted' }, t('heardNone')));
    state.next = page.next ?? undefined;
    state.loaded = true;
    $('heard-more').hidden = !page.next;
  } catch (err) {
    status.textContent = t('listeningFailed', { error: errorText(err) });
  }
}

function setup() {
  $('listening-toggle').textContent = t('listeningButton');
  $('listening-title').textContent = t('listeningTitle');
  $('listening-help').textContent = t('listeningHelp');
  $('listening-class-label').textContent = t('listeningClass');
  $('heard-more').textContent = t('heardMore');
  const select = $('listening-class');
  select.append(h('option', { value: '' }, t('listeningAll')), ...CLASSES.map((c) => h('option', { value: c }, t(`heardClass.${c}`))));
  select.value = 'praise';
  select.addEventListener('change', () => void load());
  $('listening-filters').addEventListener('submit', (event) => event.preventDefault());
  $('heard-more').addEventListener('click', () => void load(true));
  $('listening-topic').addEventListener('click', () => showTopic(undefined));
  $('listening-toggle').addEventListener('click', () => {
    const panel = $('listening');
    panel.hidden = !panel.hidden;
    $('listening-toggle').setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) void load();
  });
}

setup();
