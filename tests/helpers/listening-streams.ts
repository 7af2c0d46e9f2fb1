/**
 * Synthetic streams of heard posts for listening tests: calm days with a daily pattern (quiet
 * nights, busy afternoons), mixed Italian and English on many topics, with a little praise,
 * opinion and spam; then whatever a test adds (a spike, a weekly rise). Deterministic (seeded).
 */
import { seededRandom } from '../../src/util/random.js';

export interface StreamLine {
  at: string;
  channel: string;
  kind: 'mention' | 'post' | 'comment' | 'dm';
  id: string;
  author: { id: string; handle?: string; followers?: number };
  text: string;
}

/** A small seeded generator (mulberry32): the project's own. */
export const seeded = seededRandom;

/** Poisson-distributed count (Knuth; small means). */
export function poisson(rand: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= rand();
  } while (p > l);
  return k - 1;
}

const CALM_TEXTS = [
  'Quanto tempo ci vuole per la spedizione in Sicilia?',
  'Bellissimo il nuovo negozio di via Roma, complimenti',
  'Ho visto la vetrina della Bottega Rossi oggi, carina',
  'Qualcuno ha provato le scarpe nuove della collezione autunno?',
  'Grazie Bottega Rossi, pacco arrivato in anticipo!',
  'Come faccio a cambiare taglia di una giacca?',
  'La collezione invernale è arrivata nei negozi',
  'Sto pensando di comprare un maglione di lana per Natale',
  'Do you ship to Germany? How long does it take?',
  'Love the new winter collection, great colours',
  'Anyone knows if the store in Milan is open on Sunday?',
  'Gli orari del negozio di Torino sono cambiati?',
  'Ottimo servizio clienti, gentilissimi in chat',
  'Il mio ordine non è ancora arrivato, potete aiutarmi?',
  'Saldi invernali: quando iniziano quest anno?',
  'Ho comprato una borsa in pelle, qualità top',
  'Qualcuno sa se accettano PayPal sul sito?',
  'Passeggiata in centro, vetrine natalizie bellissime',
  'The leather bag I bought last year is still perfect',
  'Can I return a sweater bought online in a store?',
  'Buoni regalo per Natale: si possono usare online?',
  'Finalmente il cappotto che volevo è disponibile',
  'Un po lenta la consegna questa volta, ma tutto ok',
  'Nuovi colori per le sciarpe di cachemire',
];

const SPAM_TEXTS = [
  'GIVEAWAY!!! Segui e vinci un iPhone gratis https://bit.ly/xx #giveaway #vinci #gratis',
  'Earn money fast with crypto, click here https://scam.example #bitcoin #crypto #free',
];

/** Calm days: `days` days from `start` (a Monday 00:00 in Rome is a good start), about `perDay` posts a day. */
export function calmDays(
  start: string,
  days: number,
  options: { perDay?: number; seed?: number; channel?: string; boost?: (day: number, hour: number) => number; texts?: readonly string[] } = {},
): StreamLine[] {
  const rand = seeded(options.seed ?? 7);
  const perDay = options.perDay ?? 240;
  const channel = options.channel ?? 'twitter';
  // Share of a day's posts per hour (Rome time, as the start): quiet night, busy afternoon and evening.
  const shape = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 1.6, 2, 2, 2, 1.8, 1.6, 1.8, 2, 2, 2, 2.2, 2.4, 2.2, 1.6, 1, 0.5];
  const total = shape.reduce((a, b) => a + b, 0);
  const out: StreamLine[] = [];
  const t0 = Date.parse(start);
  let n = 0;
  for (let d = 0; d < days; d++) {
    for (let h = 0; h < 24; h++) {
      const count = poisson(rand, ((perDay * shape[h]!) / total) * (options.boost?.(d, h) ?? 1));
      const times = Array.from({ length: count }, () => t0 + (d * 24 + h) * 3_600_000 + Math.floor(rand() * 3_600_000)).sort((a, b) => a - b);
      for (const at of times) {
        n += 1;
        const spam = rand() < 0.03;
        const texts = options.texts ?? CALM_TEXTS;
        const text = spam ? SPAM_TEXTS[Math.floor(rand() * SPAM_TEXTS.length)]! : texts[Math.floor(rand() * texts.length)]!;
        const author = Math.floor(rand() * 2000);
        out.push({
          at: new Date(at).toISOString(),
          channel,
          kind: rand() < 0.3 ? 'mention' : 'post',
          id: `calm-${n}`,
          author: { id: `u${author}`, handle: `user${author}`, followers: Math.floor(rand() * 3000) },
          text,
        });
      }
    }
  }
  return out;
}

/** Angry Italian posts about the app, and care requests mixed in (ids `spike-care-N`). */
export const SPIKE_OPINIONS = [
  'App della Bottega Rossi bloccata da stamattina, vergogna',
  'Ma è possibile che la app sia bloccata di nuovo? Pessimi',
  'App bloccata, non funziona niente. Che schifo',
  'Ennesimo disservizio: app bloccata e nessuna comunicazione',
  'La app bloccata proprio durante i saldi, ridicoli',
  'app bloccata!!! incompetenti',
  'Anche a voi la app è bloccata? Assurdo',
];
export const SPIKE_CARE = [
  'La app è bloccata e non riesco a completare il mio ordine, potete aiutarmi?',
  'Avevo un ordine in corso sulla app bloccata: mi avete addebitato due volte?',
  'Come faccio a pagare se la app è bloccata? Ho bisogno del pacco entro venerdì',
];

/** A spike of negative posts about shipping, a topic the calm days already talk about. */
export function shippingSpike(start: string, minutes: number, perMinute: number, seed = 13): StreamLine[] {
  const rand = seeded(seed);
  const texts = ['Spedizione in ritardo di nuovo, vergogna', 'La spedizione non arriva mai, pessimi', 'Ennesima spedizione in ritardo, ridicoli', 'spedizione bloccata da giorni, che schifo'];
  const out: StreamLine[] = [];
  for (let m = 0; m < minutes; m++) {
    for (let k = poisson(rand, perMinute); k > 0; k--) {
      const at = Date.parse(start) + m * 60_000 + Math.floor(rand() * 60_000);
      out.push({ at: new Date(at).toISOString(), channel: 'twitter', kind: 'post', id: `ship-${m}-${k}`, author: { id: `s${Math.floor(rand() * 9999)}` }, text: texts[Math.floor(rand() * texts.length)]! });
    }
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** A spike of mostly negative Italian posts on the app, from `start`, `perMinute` posts a minute for `minutes`. */
export function spike(start: string, options: { minutes?: number; perMinute?: number; seed?: number; channel?: string; careEvery?: number } = {}): StreamLine[] {
  const rand = seeded(options.seed ?? 11);
  const minutes = options.minutes ?? 60;
  const perMinute = options.perMinute ?? 2;
  const careEvery = options.careEvery ?? 8;
  const out: StreamLine[] = [];
  const t0 = Date.parse(start);
  let n = 0;
  let care = 0;
  for (let m = 0; m < minutes; m++) {
    const count = poisson(rand, perMinute);
    const times = Array.from({ length: count }, () => t0 + m * 60_000 + Math.floor(rand() * 60_000)).sort((a, b) => a - b);
    for (const at of times) {
      n += 1;
      const isCare = n % careEvery === 0;
      const author = 5000 + Math.floor(rand() * 3000);
      const text = isCare ? SPIKE_CARE[care++ % SPIKE_CARE.length]! : SPIKE_OPINIONS[Math.floor(rand() * SPIKE_OPINIONS.length)]!;
      out.push({
        at: new Date(at).toISOString(),
        channel: options.channel ?? 'twitter',
        kind: isCare && care % 2 === 0 ? 'mention' : 'post',
        id: isCare ? `spike-care-${care}` : `spike-${n}`,
        author: { id: `u${author}`, handle: `angry${author}`, followers: Math.floor(rand() * 50_000) },
        text,
      });
    }
  }
  return out;
}

/** Merges streams in time order. */
export function merge(...streams: StreamLine[][]): StreamLine[] {
  return streams.flat().sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export function toJsonl(lines: StreamLine[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

/** A wave of posts drawn from `texts`, `perMinute` a minute for `minutes` from `start`, each by another author (ids `PREFIX-N`). */
export function wave(start: string, texts: readonly string[], options: { minutes: number; perMinute: number; seed?: number; prefix: string; steady?: boolean }): StreamLine[] {
  const rand = seeded(options.seed ?? 17);
  const out: StreamLine[] = [];
  for (let m = 0; m < options.minutes; m++) {
    // Poisson counts a minute, or `steady`: one post every 1/perMinute minutes (a slow, even rise).
    const count = options.steady ? Math.floor((m + 1) * options.perMinute) - Math.floor(m * options.perMinute) : poisson(rand, options.perMinute);
    for (let k = count; k > 0; k--) {
      const at = Date.parse(start) + m * 60_000 + Math.floor(rand() * 60_000);
      const n = out.length + 1;
      out.push({ at: new Date(at).toISOString(), channel: 'twitter', kind: 'post', id: `${options.prefix}-${n}`, author: { id: `${options.prefix}-a${n}`, followers: 100 }, text: texts[Math.floor(rand() * texts.length)]! });
    }
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
