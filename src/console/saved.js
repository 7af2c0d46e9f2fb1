// @ts-check
// Saved replies: "/" in the reply box (or the button beside it) opens a search over them; the one
// picked is rendered by the server for the conversation (variables filled in, measured as its
// channel will: X's length) and put at the caret. Admins manage them on their own page.
import { api, query } from './api.js';
import { $, h, toast } from './dom.js';
import { t } from './i18n.js';

/**
 * @typedef {{ id: string, language: string, shortcut: string, title: string, text: string, updated_at: string }} SavedReply
 * @typedef {{ length: number, max_length: number, fits: boolean, thread: string[] | null } | null} Fitting
 */

/**
 * @typedef {{
 *   conversation: () => { id: string, language?: string, visibility: string } | undefined,
 *   visibility: () => string,
 *   isAdmin: () => boolean,
 *   fail: (err: unknown) => void,
 * }} SavedHost
 */
/** @type {SavedHost} */
let host;
/** @type {SavedReply[]} */
let replies = [];
let loaded = false;
/** @type {SavedReply[]} */
let shownOptions = [];
let active = 0;
/** Where the "/" was typed: the reply goes there. */
let caret = { start: 0, end: 0 };
/** @type {SavedReply | undefined} the reply being edited on the admin page */
let editing;

/** The variables a saved reply may use (handoff/saved-replies.ts, SAVED_REPLY_VARIABLES). */
const VARIABLES = ['customer_name', 'operator_name', 'business_hours', 'reopens'];

/**
 * What in a text looks like a variable but is not one of ours ("{{customer.name}}", "{nome}").
 * @param {string} text
 */
function unknownVariables(text) {
  return [...text.matchAll(/\{+[^{}\n]*\}+/g)].map((m) => m[0]).filter((v) => !VARIABLES.some((name) => v === `{${name}}`));
}

/** Lower case without accents, for matching. */
const fold = (/** @type {string} */ s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** Reads the saved replies again (after a live `saved_replies.changed`, or when first needed). */
export async function loadSaved() {
  /** @type {{ saved_replies: SavedReply[] }} */
  const answer = await api('GET', '/saved-replies');
  replies = answer.saved_replies;
  loaded = true;
  if (!$('saved-picker').hidden) filter();
  if (!$('saved-admin').hidden) renderAdmin();
}

/**
 * Replies whose shortcut, title or text has words starting with every word searched. The one
 * whose shortcut is what was typed comes first, then those whose shortcut starts with it (typing
 * "/refu" means /refund, not a reply that mentions a refund); within each, those of the
 * conversation's language first.
 */
function matches() {
  const typed = fold($('saved-search').value.replace(/^\//, '').trim());
  const words = typed.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const language = host.conversation()?.language;
  const found = replies.filter((r) => {
    const haystack = fold(`${r.shortcut} ${r.title} ${r.text}`).split(/[^\p{L}\p{N}]+/u);
    return words.every((w) => haystack.some((x) => x.startsWith(w)));
  });
  /** @param {SavedReply} r */
  const rank = (r) => {
    const shortcut = fold(r.shortcut);
    return typed && shortcut === typed ? 0 : typed && shortcut.startsWith(typed) ? 1 : 2;
  };
  return found.sort((a, b) => rank(a) - rank(b) || Number(b.language === language) - Number(a.language === language));
}

function filter() {
  shownOptions = matches().slice(0, 20);
  active = Math.min(active, Math.max(0, shownOptions.length - 1));
  const list = $('saved-list');
  list.replaceChildren(
    ...(shownOptions.length === 0
      ? [h('li', { class: 'muted', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, loaded ? t('savedNone') : '…')]
      : shownOptions.map((r, i) =>
          h(
            'li',
            { id: `saved-opt-${i}`, role: 'option', class: `saved-option${i === active ? ' active' : ''}`, 'aria-selected': String(i === active), 'data-saved': r.id, onmousedown: (/** @type {Event} */ e) => e.preventDefault(), onclick: () => pick(r) },
            h('span', { class: 'saved-shortcut' }, `/${r.shortcut}`),
            h('span', { class: 'chip' }, r.language),
            h('span', { class: 'saved-title' }, r.title),
            h('span', { class: 'saved-text' }, r.text),
          ),
        )),
  );
  const search = $('saved-search');
  if (shownOptions.length > 0) search.setAttribute('aria-activedescendant', `saved-opt-${active}`);
  else search.removeAttribute('aria-activedescendant');
}

/** Opens the search of saved replies, remembering where to put the one picked. */
export function openPicker() {
  const box = $('reply-text');
  caret = { start: box.selectionStart, end: box.selectionEnd };
  $('saved-picker').hidden = false;
  $('saved-search').setAttribute('aria-expanded', 'true');
  $('saved-search').value = '';
  active = 0;
  filter();
  $('saved-search').focus();
  if (!loaded) loadSaved().catch(host.fail);
}

function closePicker() {
  $('saved-picker').hidden = true;
  $('saved-search').setAttribute('aria-expanded', 'false');
  $('reply-text').focus();
}

/**
 * Renders the reply for the conversation and puts it where "/" was typed.
 * @param {SavedReply} reply
 */
async function pick(reply) {
  const c = host.conversation();
  if (!c) return;
  try {
    /** @type {{ text: string, fitting: Fitting }} */
    const rendered = await api('GET', `/saved-replies/${encodeURIComponent(reply.id)}/render${query({ conversation_id: c.id, visibility: host.visibility() })}`);
    const box = $('reply-text');
    const before = box.value.slice(0, caret.start);
    const after = box.value.slice(caret.end);
    box.value = `${before}${rendered.text}${after}`;
    $('saved-picker').hidden = true;
    box.focus();
    const at = before.length + rendered.text.length;
    box.setSelectionRange(at, at);
    box.dispatchEvent(new Event('input'));
    showFitting(rendered.fitting);
  } catch (err) {
    host.fail(err);
  }
}

/**
 * Says when the text is too long for the channel (X), and how many posts it would take.
 * @param {Fitting} fitting
 */
function showFitting(fitting) {
  const warning = $('fit-warning');
  if (!fitting || fitting.fits) {
    warning.hidden = true;
    warning.textContent = '';
    return;
  }
  warning.hidden = false;
  warning.textContent = t('tooLong', { length: fitting.length, max: fitting.max_length, posts: fitting.thread?.length ?? '?' });
}

// ───────────── admin page ─────────────

function renderAdmin() {
  const list = $('saved-admin-list');
  list.replaceChildren(
    ...(replies.length === 0
      ? [h('li', { class: 'muted' }, t('savedNone'))]
      : replies.map((r) =>
          h(
            'li',
            { class: 'saved-item', 'data-saved': r.id },
            h('span', { class: 'saved-head' }, h('span', { class: 'saved-shortcut' }, `/${r.shortcut}`), h('span', { class: 'chip' }, r.language), h('span', { class: 'saved-title' }, r.title)),
            h('span', { class: 'saved-text full' }, r.text),
            h(
              'span',
              { class: 'review-actions' },
              h('button', { type: 'button', class: 'small', 'aria-label': `${t('edit')} /${r.shortcut}`, onclick: () => edit(r) }, t('edit')),
              h('button', { type: 'button', class: 'small', 'aria-label': `${t('delete')} /${r.shortcut}`, onclick: () => remove(r) }, t('delete')),
            ),
          ),
        )),
  );
}

/** @param {SavedReply | undefined} r */
function edit(r) {
  editing = r;
  $('saved-language').value = r?.language ?? 'it';
  $('saved-shortcut').value = r?.shortcut ?? '';
  $('saved-title').value = r?.title ?? '';
  $('saved-text').value = r?.text ?? '';
  $('saved-form-title').textContent = r ? t('savedEditTitle', { shortcut: r.shortcut }) : t('savedNewTitle');
  $('saved-cancel').hidden = !r;
  if (r) $('saved-text').focus();
}

/** @param {SavedReply} r */
async function remove(r) {
  try {
    await api('DELETE', `/saved-replies/${encodeURIComponent(r.id)}`);
    toast(t('savedDeleted'), 'ok');
    if (editing?.id === r.id) edit(undefined);
    await loadSaved();
  } catch (err) {
    host.fail(err);
  }
}

/** @param {SavedHost} app */
export function setupSavedReplies(app) {
  host = app;
  $('saved-open').textContent = t('savedButton');
  $('saved-open').setAttribute('aria-controls', 'saved-picker');
  $('saved-search-label').textContent = t('savedSearch');
  $('saved-search').setAttribute('placeholder', t('savedSearchPlaceholder'));
  $('saved-open').addEventListener('click', openPicker);
  $('reply-text').addEventListener('keydown', (event) => {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
    const box = $('reply-text');
    const before = box.value.slice(0, box.selectionStart);
    // "/" opens the search at the start of the text or of a word; elsewhere ("a/b") it is a slash.
    if (before !== '' && !/\s$/.test(before)) return;
    event.preventDefault();
    openPicker();
  });
  $('reply-text').addEventListener('input', () => {
    if (!$('fit-warning').hidden && $('reply-text').value.trim() === '') showFitting(null);
  });
  $('saved-search').addEventListener('input', () => {
    active = 0;
    filter();
  });
  $('saved-search').addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (shownOptions.length === 0) return;
      active = (active + (event.key === 'ArrowDown' ? 1 : -1) + shownOptions.length) % shownOptions.length;
      filter();
      document.getElementById(`saved-opt-${active}`)?.scrollIntoView({ block: 'nearest' });
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const r = shownOptions[active];
      if (r) void pick(r);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      closePicker();
    }
  });
  $('saved-search').addEventListener('blur', () => {
    // a click on an option keeps the focus (mousedown is prevented); anything else closes it
    setTimeout(() => {
      if (!$('saved-picker').contains(document.activeElement)) $('saved-picker').hidden = true;
    }, 150);
  });

  // The admin page.
  $('saved-toggle').textContent = t('savedAdminButton');
  $('saved-admin-title').textContent = t('savedAdminTitle');
  $('saved-admin-help').textContent = t('savedAdminHelp');
  $('saved-language-label').textContent = t('localeLabel');
  $('saved-shortcut-label').textContent = t('savedShortcut');
  $('saved-title-label').textContent = t('savedTitle');
  $('saved-text-label').textContent = t('savedText');
  $('saved-submit').textContent = t('save');
  $('saved-cancel').textContent = t('cancel');
  $('saved-language').replaceChildren(h('option', { value: 'it' }, 'it'), h('option', { value: 'en' }, 'en'));
  edit(undefined);
  $('saved-toggle').addEventListener('click', () => {
    const panel = $('saved-admin');
    panel.hidden = !panel.hidden;
    $('saved-toggle').setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) loadSaved().catch(host.fail);
  });
  $('saved-cancel').addEventListener('click', () => edit(undefined));
  $('saved-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { language: $('saved-language').value, shortcut: $('saved-shortcut').value.trim(), title: $('saved-title').value.trim() || undefined, text: $('saved-text').value.trim() };
    // A misspelt variable ("{{customer.name}}", "{nome}") would reach customers as written: said now, nothing saved.
    const unknown = unknownVariables(body.text);
    if (unknown.length > 0) {
      toast(t('savedUnknownVariable', { found: unknown.join(' ') }), 'error');
      $('saved-text').focus();
      return;
    }
    try {
      if (editing) await api('PUT', `/saved-replies/${encodeURIComponent(editing.id)}`, body);
      else await api('POST', '/saved-replies', body);
      toast(t('savedSaved'), 'ok');
      edit(undefined);
      await loadSaved();
    } catch (err) {
      host.fail(err);
    }
  });
}
