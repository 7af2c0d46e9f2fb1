// The console's crisis banner: listening's spike alerts (`crisis.alert` events on the operator
// event stream, docs/listening.md) shown live at the top of the console, with a short sound. An
// update of the same spike (it grew) replaces the banner; the operator may dismiss it, or open a
// crisis on its topic (crisis mode: messages about it get the approved holding statement and are
// queued first), shown by a bar with a button to close it. Italian and English like the rest of
// the console. Self-contained: app.js hands it the event stream and its API function.
// @ts-check
import { lang } from './i18n.js';

/** @typedef {keyof typeof TEXT.en} TextKey */
/** @typedef {(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => Promise<any>} CallApi */
/**
 * A `crisis.alert` event's data.
 * @typedef {{ spikeId?: string, topic: string, update?: boolean, volume: number, windowMinutes: number, baseline: number,
 *   negativeShare: number, samples?: string[], topAuthors?: Array<{ id: string, handle?: string, followers?: number }> }} CrisisAlert
 */
/** @typedef {{ topic: string, rule?: string }} OpenCrisis */

const TEXT = {
  it: {
    spike: 'Picco su «{topic}»: {volume} post in {window} minuti (di solito {baseline}), {share}% negativi',
    grows: 'Il picco su «{topic}» cresce: {volume} post in {window} minuti (di solito {baseline}), {share}% negativi',
    authors: 'Autori più seguiti: {authors}',
    followers: '{n} follower',
    dismiss: 'Chiudi',
    openCrisis: 'Apri una crisi su «{topic}»',
    crisisOpen: 'Crisi aperta su «{topic}»: i messaggi su questo tema ricevono la dichiarazione approvata e vanno in coda per primi.',
    closeCrisis: 'Chiudi la crisi',
    byRule: ' Aperta automaticamente dalla regola «{rule}».',
    failed: 'Non riuscito: {error}',
  },
  en: {
    spike: 'Spike on “{topic}”: {volume} posts in {window} minutes (usually {baseline}), {share}% negative',
    grows: 'The spike on “{topic}” is growing: {volume} posts in {window} minutes (usually {baseline}), {share}% negative',
    authors: 'Most followed authors: {authors}',
    followers: '{n} followers',
    dismiss: 'Dismiss',
    openCrisis: 'Open a crisis on “{topic}”',
    crisisOpen: 'Crisis open on “{topic}”: messages on this topic get the approved holding statement and are queued first.',
    closeCrisis: 'Close the crisis',
    byRule: ' Opened automatically by the rule “{rule}”.',
    failed: 'Failed: {error}',
  },
};

/**
 * @param {TextKey} key
 * @param {Record<string, unknown>} [vars]
 */
function say(key, vars = {}) {
  const texts = /** @type {Record<string, Record<TextKey, string>>} */ (TEXT);
  const text = (texts[lang] ?? TEXT.en)[key] ?? TEXT.en[key];
  return text.replace(/\{(\w+)\}/g, (/** @type {string} */ _, /** @type {string} */ k) => String(vars[k] ?? ''));
}

/** The banner element, made once, right after the other banners. */
function bannerElement() {
  let el = document.getElementById('crisis-banner');
  if (el) return el;
  el = document.createElement('div');
  el.id = 'crisis-banner';
  el.className = 'banner crisis-banner';
  el.setAttribute('role', 'alert');
  el.hidden = true;
  const anchor = document.getElementById('channel-banner') ?? document.body.firstElementChild;
  anchor?.after(el);
  return el;
}

/** A short two-tone alarm (Web Audio: no file to load); silent where the browser refuses sound. */
function beep() {
  try {
    const Ctx = window.AudioContext ?? /** @type {{ webkitAudioContext?: typeof AudioContext }} */ (/** @type {unknown} */ (window)).webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const gain = ctx.createGain();
    gain.gain.value = 0.08;
    gain.connect(ctx.destination);
    [880, 660].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.start(ctx.currentTime + i * 0.18);
      osc.stop(ctx.currentTime + i * 0.18 + 0.15);
    });
    setTimeout(() => ctx.close().catch(() => undefined), 1000);
  } catch {
    // No sound: the banner still shows.
  }
}

/** @type {CallApi} */
let callApi = async () => undefined;

/**
 * @param {string} label
 * @param {() => unknown} onClick
 */
function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'ghost';
  b.textContent = label;
  b.addEventListener('click', () => {
    b.disabled = true;
    Promise.resolve(onClick())
      .catch((err) => {
        b.title = say('failed', { error: err?.data?.error ?? err?.message ?? String(err) });
      })
      .finally(() => {
        b.disabled = false;
      });
  });
  return b;
}

/** The bar saying a crisis is open (made once, before the alert banner). */
function crisisBar() {
  let el = document.getElementById('crisis-mode');
  if (el) return el;
  el = document.createElement('div');
  el.id = 'crisis-mode';
  el.className = 'banner crisis-mode';
  el.setAttribute('role', 'status');
  el.hidden = true;
  bannerElement().before(el);
  return el;
}

/**
 * Shows the open crisis (or hides the bar when there is none).
 * @param {OpenCrisis | undefined} crisis
 */
export function showCrisis(crisis) {
  const el = crisisBar();
  el.textContent = '';
  if (!crisis) {
    el.hidden = true;
    delete el.dataset.topic;
    return;
  }
  el.dataset.topic = crisis.topic;
  const text = document.createElement('strong');
  text.textContent = say('crisisOpen', { topic: crisis.topic }) + (crisis.rule ? say('byRule', { rule: crisis.rule }) : '');
  el.append(text, button(say('closeCrisis'), () => callApi('POST', '/crisis/close')));
  el.hidden = false;
}

/**
 * Shows one alert (a `crisis.alert` event's data).
 * @param {CrisisAlert} alert
 */
export function showCrisisAlert(alert) {
  const el = bannerElement();
  el.textContent = '';
  el.dataset.spike = alert.spikeId ?? '';
  el.dataset.topic = alert.topic;
  const head = document.createElement('strong');
  head.textContent = say(alert.update ? 'grows' : 'spike', {
    topic: alert.topic,
    volume: alert.volume,
    window: alert.windowMinutes,
    baseline: alert.baseline,
    share: Math.round(alert.negativeShare * 100),
  });
  el.append(head);
  if (alert.samples?.length) {
    const list = document.createElement('ul');
    for (const sample of alert.samples) {
      const li = document.createElement('li');
      li.textContent = sample;
      list.append(li);
    }
    el.append(list);
  }
  if (alert.topAuthors?.length) {
    const who = document.createElement('div');
    who.textContent = say('authors', {
      authors: alert.topAuthors.map((a) => `${a.handle ? `@${a.handle}` : a.id} (${say('followers', { n: a.followers })})`).join(', '),
    });
    el.append(who);
  }
  const actions = document.createElement('div');
  actions.className = 'crisis-actions';
  actions.append(
    button(say('openCrisis', { topic: alert.topic }), async () => {
      await callApi('POST', '/crisis', { topic: alert.topic });
      el.hidden = true;
    }),
    button(say('dismiss'), () => {
      el.hidden = true;
    }),
  );
  el.append(actions);
  el.hidden = false;
  beep();
}

/**
 * Listens for spike alerts and crisis mode on the console's event stream; `api(method, path, body)` calls the operator API.
 * @param {EventSource} source
 * @param {CallApi} api
 */
export function watchCrises(source, api) {
  callApi = api;
  source.addEventListener('crisis.alert', (e) => showCrisisAlert(JSON.parse(/** @type {MessageEvent} */ (e).data)));
  source.addEventListener('crisis.opened', (e) => showCrisis(JSON.parse(/** @type {MessageEvent} */ (e).data)));
  source.addEventListener('crisis.closed', () => showCrisis(undefined));
  // The crisis open now (the stream only tells what changes from here on).
  source.addEventListener('ready', () => {
    api('GET', '/crisis').then((/** @type {{ crisis?: OpenCrisis } | undefined} */ r) => showCrisis(r?.crisis ?? undefined), () => undefined);
  });
}
