// @ts-check
// Small DOM helpers of the console: elements by id (typed by the page's controls), elements built
// from a tag, attributes and children (text always as text nodes, never as HTML), the toast.

/**
 * The page's elements that are more than an HTMLElement, by id, so that `$` gives each its type.
 * @typedef {{
 *   'login-form': HTMLFormElement,
 *   'login-name': HTMLInputElement,
 *   'login-password': HTMLInputElement,
 *   'login-submit': HTMLButtonElement,
 *   'composer': HTMLFormElement,
 *   'reply-text': HTMLTextAreaElement,
 *   'as-note': HTMLInputElement,
 *   'reply-visibility': HTMLSelectElement,
 *   'send': HTMLButtonElement,
 *   'claim': HTMLButtonElement,
 *   'transfer-to': HTMLSelectElement,
 *   'resolve-form': HTMLFormElement,
 *   'resolve': HTMLButtonElement,
 *   'add-to-faq': HTMLInputElement,
 *   'reports-from': HTMLInputElement,
 *   'reports-to': HTMLInputElement,
 *   'reports-channel': HTMLSelectElement,
 *   'reports-filters': HTMLFormElement,
 *   'reports-csv': HTMLAnchorElement,
 *   'reports-daily': HTMLCanvasElement,
 *   'reports-response': HTMLCanvasElement,
 *   'reports-channels': HTMLCanvasElement,
 *   'reports-reasons': HTMLCanvasElement,
 *   'reports-faq': HTMLCanvasElement,
 *   'reports-csat': HTMLCanvasElement,
 *   'listening-class': HTMLSelectElement,
 *   'listening-filters': HTMLFormElement,
 *   'heard-more': HTMLButtonElement,
 *   'shortcuts': HTMLDialogElement,
 *   'notify-toggle': HTMLButtonElement,
 *   'sound-toggle': HTMLButtonElement,
 *   'search-form': HTMLFormElement,
 *   'search-q': HTMLInputElement,
 *   'view': HTMLSelectElement,
 *   'search-prev': HTMLButtonElement,
 *   'search-next': HTMLButtonElement,
 *   'saved-search': HTMLInputElement,
 *   'saved-form': HTMLFormElement,
 *   'saved-language': HTMLSelectElement,
 *   'saved-shortcut': HTMLInputElement,
 *   'saved-title': HTMLInputElement,
 *   'saved-text': HTMLTextAreaElement,
 *   'tags-input': HTMLInputElement,
 *   'tags-form': HTMLFormElement,
 *   'note-form': HTMLFormElement,
 *   'note-text': HTMLTextAreaElement,
 *   'link-form': HTMLFormElement,
 *   'link-q': HTMLInputElement,
 *   'presence': HTMLButtonElement,
 *   'assign-form': HTMLFormElement,
 *   'assign-auto': HTMLInputElement,
 *   'assign-capacity': HTMLInputElement,
 *   'assign-away': HTMLInputElement,
 *   'team-form': HTMLFormElement,
 *   'team-name': HTMLInputElement,
 *   'team-channels': HTMLInputElement,
 *   'team-languages': HTMLInputElement,
 * }} Controls
 */

/**
 * The element with this id (the page always has it: a missing one is a bug, said at once).
 * @template {string} K
 * @param {K} id
 * @returns {K extends keyof Controls ? Controls[K] : HTMLElement}
 */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the console page has no #${id}`);
  return /** @type {any} */ (el);
}

/** @typedef {string | number | boolean | undefined | null | ((event: any) => unknown)} AttrValue */
/** @typedef {Node | string | number | false | undefined | null | any[]} Child (arrays are flattened) */

/**
 * An element: attributes (`class`, `on<event>` listeners, others as attributes; undefined, null
 * and false leave one out) and children (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} T
 * @param {T} tag
 * @param {Record<string, AttrValue>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[T]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false || v === null) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of /** @type {Child[]} */ (children).flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;
/**
 * A short message at the corner of the page (read by screen readers: role=status).
 * @param {string} message
 * @param {'info' | 'ok' | 'error'} [kind]
 */
export function toast(message, kind = 'info') {
  const el = $('toast');
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), kind === 'error' ? 8000 : 4000);
}

/**
 * True when the key event was typed into a field (shortcuts then stay out of the way).
 * @param {Event} event
 */
export function inField(event) {
  const target = /** @type {HTMLElement | null} */ (event.target);
  if (!target) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}
