// @ts-check
// Keyboard shortcuts of the desk, listed in a dialog with "?". Single keys act only outside text
// fields (Escape leaves a field first); Ctrl/Cmd+Enter sends from the composer (app.js).
import { $, h, inField } from './dom.js';
import { t } from './i18n.js';

/**
 * @typedef {{ keys: string[], label: string, run: () => void }} Shortcut
 */

/**
 * Installs the shortcuts and fills the "?" dialog with them.
 * @param {Record<'next' | 'previous' | 'claim' | 'reply' | 'note' | 'resolve' | 'search', () => void>} actions
 * @param {() => boolean} active whether the desk is showing (not the login page)
 */
export function installShortcuts(actions, active) {
  /** @type {Shortcut[]} */
  const list = [
    { keys: ['j'], label: t('keyNext'), run: actions.next },
    { keys: ['k'], label: t('keyPrevious'), run: actions.previous },
    { keys: ['c'], label: t('keyClaim'), run: actions.claim },
    { keys: ['r'], label: t('keyReply'), run: actions.reply },
    { keys: ['n'], label: t('keyNote'), run: actions.note },
    { keys: ['R'], label: t('keyResolve'), run: actions.resolve },
    { keys: ['/'], label: t('keySearch'), run: actions.search },
  ];
  const dialog = $('shortcuts');
  $('shortcuts-title').textContent = t('shortcuts');
  $('shortcuts-close').textContent = t('close');
  const describe = (/** @type {string} */ key) => (key === 'R' ? 'Shift+R' : key);
  $('shortcuts-list').replaceChildren(
    ...list.map((s) => h('div', { class: 'shortcut' }, h('dt', {}, h('kbd', {}, describe(s.keys[0] ?? ''))), h('dd', {}, s.label))),
    h('div', { class: 'shortcut' }, h('dt', {}, h('kbd', {}, 'Ctrl+Enter')), h('dd', {}, t('keySend'))),
    h('div', { class: 'shortcut' }, h('dt', {}, h('kbd', {}, 'Esc')), h('dd', {}, t('keyEscape'))),
    h('div', { class: 'shortcut' }, h('dt', {}, h('kbd', {}, '?')), h('dd', {}, t('keyHelp'))),
  );
  $('shortcuts-close').addEventListener('click', () => dialog.close());
  const help = $('shortcuts-toggle');
  help.textContent = '?';
  help.setAttribute('aria-label', t('shortcuts'));
  help.title = t('shortcuts');
  help.addEventListener('click', () => dialog.showModal());

  document.addEventListener('keydown', (event) => {
    if (!active() || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Escape' && inField(event)) {
      /** @type {HTMLElement} */ (event.target).blur();
      return;
    }
    if (inField(event) || dialog.open) return;
    if (event.key === '?') {
      event.preventDefault();
      dialog.showModal();
      return;
    }
    const shortcut = list.find((s) => s.keys.includes(event.key));
    if (!shortcut) return;
    event.preventDefault();
    shortcut.run();
  });
}
