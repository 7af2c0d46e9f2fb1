// The console's crisis banner: listening's spike alerts (`crisis.alert` events on the operator
// event stream, docs/listening.md) shown live at the top of the console, with a short sound. An
// update of the same spike (it grew) replaces the banner; the operator may dismiss it. Italian and
// English like the rest of the console. Self-contained: app.js only hands it the event stream.
import { lang } from './i18n.js';

const TEXT = {
  it: {
    spike: 'Picco su «{topic}»: {volume} post in {window} minuti (di solito {baseline}), {share}% negativi',
    grows: 'Il picco su «{topic}» cresce: {volume} post in {window} minuti (di solito {baseline}), {share}% negativi',
    authors: 'Autori più seguiti: {authors}',
    followers: '{n} follower',
    dismiss: 'Chiudi',
  },
  en: {
    spike: 'Spike on “{topic}”: {volume} posts in {window} minutes (usually {baseline}), {share}% negative',
    grows: 'The spike on “{topic}” is growing: {volume} posts in {window} minutes (usually {baseline}), {share}% negative',
    authors: 'Most followed authors: {authors}',
    followers: '{n} followers',
    dismiss: 'Dismiss',
  },
};

function say(key, vars = {}) {
  const text = (TEXT[lang] ?? TEXT.en)[key] ?? TEXT.en[key];
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
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
    const Ctx = window.AudioContext ?? window.webkitAudioContext;
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

/** Shows one alert (a `crisis.alert` event's data). */
export function showCrisisAlert(alert) {
  const el = bannerElement();
  el.textContent = '';
  el.dataset.spike = alert.spikeId;
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
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'ghost';
  close.textContent = say('dismiss');
  close.addEventListener('click', () => {
    el.hidden = true;
  });
  el.append(close);
  el.hidden = false;
  beep();
}

/** Listens for spike alerts on the console's event stream. */
export function watchCrises(source) {
  source.addEventListener('crisis.alert', (e) => showCrisisAlert(JSON.parse(e.data)));
}
