// @ts-check
// Alerts of the console: a short sound (WebAudio: no file to fetch), a desktop notification
// (opt-in: asked only when the operator turns it on) and the unread count in the tab's title,
// for a new case in the operator's views, a customer reply on a case they hold and an SLA about
// to breach. Notifications name the customer and why, never the message's text.
import { $ } from './dom.js';
import { t } from './i18n.js';

const SOUND_KEY = 'sportello.sound';
const DESKTOP_KEY = 'sportello.desktop';

/** @param {string} key */
function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
/** @param {string} key @param {string} value */
function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

const prefs = {
  sound: stored(SOUND_KEY) !== 'off',
  desktop: stored(DESKTOP_KEY) === 'on',
};

/** Conversations with news the operator has not opened yet. */
const unread = new Set();
let baseTitle = document.title;

/** @type {AudioContext | undefined} */
let audio;
function audioContext() {
  if (!audio) {
    const Ctor = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext;
    if (!Ctor) return undefined;
    audio = /** @type {AudioContext} */ (new Ctor());
  }
  if (audio.state === 'suspended') void audio.resume().catch(() => undefined);
  return audio;
}

/**
 * Browsers let a page play sound only after a gesture: called on the operator's clicks and keys.
 */
export function unlockAudio() {
  if (prefs.sound) audioContext();
}

/** @typedef {'new' | 'reply' | 'sla'} AlertKind */

/** Notes per kind of alert (Hz): rising for a new case, one high note for a reply, low for the SLA. */
const TUNES = /** @type {Record<AlertKind, number[]>} */ ({ new: [660, 880], reply: [988], sla: [440, 440, 330] });

/** @param {AlertKind} kind */
function chime(kind) {
  if (!prefs.sound) return;
  try {
    const ctx = audioContext();
    if (!ctx) return;
    let at = ctx.currentTime + 0.01;
    for (const frequency of TUNES[kind]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.2);
      at += 0.2;
    }
  } catch {
    // no audio output: the other alerts remain
  }
}

function desktopAllowed() {
  return prefs.desktop && 'Notification' in window && Notification.permission === 'granted';
}

/** @type {(conversationId: string) => void} */
let onOpen = () => undefined;

/**
 * An alert: sound, desktop notification (when turned on) and the conversation counted unread.
 * @param {{ kind: AlertKind, conversationId: string, title: string, body?: string, unread?: boolean }} alert
 *   `unread: false` when the operator is looking at that conversation already
 */
export function notify(alert) {
  chime(alert.kind);
  if (alert.unread !== false) markUnread(alert.conversationId);
  if (!desktopAllowed()) return;
  try {
    const n = new Notification(alert.title, { body: alert.body ?? '', tag: `${alert.kind}:${alert.conversationId}` });
    n.onclick = () => {
      window.focus();
      onOpen(alert.conversationId);
      n.close();
    };
  } catch {
    // some browsers allow notifications only from a service worker: the sound and title remain
  }
}

/** @param {string} conversationId */
export function markUnread(conversationId) {
  unread.add(conversationId);
  updateTitle();
}
/** @param {string} conversationId */
export function markRead(conversationId) {
  if (unread.delete(conversationId)) updateTitle();
}
/** @param {string} conversationId */
export function isUnread(conversationId) {
  return unread.has(conversationId);
}
export function clearUnread() {
  unread.clear();
  updateTitle();
}

/**
 * The tab's title: "(3) Sportello · Console operatori" while three conversations have news.
 * @param {string} [base] a new title without the count
 */
export function updateTitle(base) {
  if (base) baseTitle = base;
  document.title = unread.size > 0 ? `(${unread.size}) ${baseTitle}` : baseTitle;
}

function renderToggles() {
  const sound = $('sound-toggle');
  sound.textContent = prefs.sound ? t('soundOn') : t('soundOff');
  sound.setAttribute('aria-pressed', String(prefs.sound));
  const desktop = $('notify-toggle');
  const supported = 'Notification' in window;
  desktop.hidden = !supported;
  const on = desktopAllowed();
  desktop.textContent = on ? t('desktopOn') : t('desktopOff');
  desktop.setAttribute('aria-pressed', String(on));
  if (supported && Notification.permission === 'denied') desktop.title = t('desktopDenied');
}

/**
 * Wires the two toggles of the top bar; `open` shows a conversation (a notification was clicked).
 * @param {(conversationId: string) => void} open
 */
export function setupNotifications(open) {
  onOpen = open;
  $('sound-toggle').addEventListener('click', () => {
    prefs.sound = !prefs.sound;
    store(SOUND_KEY, prefs.sound ? 'on' : 'off');
    if (prefs.sound) chime('reply');
    renderToggles();
  });
  $('notify-toggle').addEventListener('click', async () => {
    if (desktopAllowed()) {
      prefs.desktop = false;
    } else {
      // Asked only now, on the operator's click (browsers refuse it otherwise).
      const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
      prefs.desktop = permission === 'granted';
    }
    store(DESKTOP_KEY, prefs.desktop ? 'on' : 'off');
    renderToggles();
  });
  renderToggles();
}
