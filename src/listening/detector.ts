/**
 * @module listening/detector
 * Topics, trends and spikes of heard items (docs/listening.md has the method and its reasons).
 *
 * - Every content word (listening/text.ts: stem-keyed, stop-words and the brand's names left out)
 *   is a series: its items in a sliding window (default 20 minutes), and a seasonal baseline of
 *   items per hour: per hour of the day (EWMA across days) and per hour of the week (EWMA across
 *   weeks), in the brand's time zone. The expected rate of an hour is the larger of the two, so a
 *   rise that comes every Monday morning, or every evening, is expected.
 * - A word spikes when the window's count is improbable under a Poisson law with the expected
 *   count (tail p below the sensitivity's), is at least `min_ratio` times it and at least
 *   `min_volume` items, and enough of the items are negative (`min_negative_share`).
 * - A topic is the spiking word with the words most of its items share ("app bloccata"); words
 *   of an open spike's items join it instead of raising another alert. One alert when a spike
 *   starts; another (`update: true`) only when it grows (its window holds `growth` times what the last
 *   alert's pace fills it with); the spike ends after
 *   `cooldown_minutes` without spiking.
 * - A slow rise: the same test on the people of the last `longWindowMinutes` (180), counted in
 *   5-minute buckets, with 1.5 times the volume bar (not in the cold start). Words that translate
 *   each other are one series (listening/text.ts `TOPIC_WORDS`), and a firing word of the same kind
 *   of incident as an open spike's joins it: one incident in two languages alerts once.
 * - A window's baseline leaves out its own hours already closed (the EWMA step undone).
 * - Cold start: before the stream has `cold_start_hours` (24) of history, or when most of a
 *   window's items come from a source heard for less than that, a word spikes only over a cautious
 *   bar (the `low` sensitivity's numbers, and half its items negative): a crisis on day one alerts.
 * Spam does not count. Pure logic on the times it is given (a simulated clock in `replay`).
 */
import { maskPrivateData } from '../classifier/mask.js';
import type { Language } from '../core/types.js';
import { brandWords, contentTerms, topicFamily, type Term } from './text.js';

/** How eager the detector is; each preset is a set of the numbers below (docs/listening.md). */
export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

/** The detector's numbers. */
export interface DetectorSettings {
  windowMinutes: number;
  /**
   * The slow rise's window: people on a word over this long (counted in 5-minute buckets), against the
   * same seasonal baseline, with `longVolumeFactor` times the volume bar; 0 turns it off.
   */
  longWindowMinutes: number;
  /** The long window's `minVolume` is this many times the short one's. */
  longVolumeFactor: number;
  /** Poisson tail probability below which a count is a spike. */
  pValue: number;
  /** A spike is at least this many times the expected count … */
  minRatio: number;
  /** … and at least this many items. */
  minVolume: number;
  /** Share of negative items a spike must have (0: any spike alerts, also a campaign's). */
  minNegativeShare: number;
  /** An open spike alerts again when its window holds this many times what the last alert's pace (items a minute) fills it with. */
  growth: number;
  /** A spike ends after this long without spiking. */
  cooldownMinutes: number;
  /** No alert before this much history (of the stream, and of most window items' source). */
  coldStartHours: number;
  /** Smallest expected count of a window (a word never seen has some chance to appear). */
  minExpected: number;
  /** Words in more than this share of all items are background (the brand's product), not topics. */
  backgroundShare: number;
  /** IANA zone of the hours of the day and days of the week. */
  timezone: string;
  /** The brand's names and handles (without @), left out of topics. */
  brandNames: string[];
}

export const SENSITIVITY_PRESETS: Record<Sensitivity, Pick<DetectorSettings, 'pValue' | 'minRatio' | 'minVolume'>> = {
  low: { pValue: 1e-8, minRatio: 4, minVolume: 12 },
  medium: { pValue: 1e-6, minRatio: 3, minVolume: 6 },
  high: { pValue: 1e-4, minRatio: 2, minVolume: 5 },
};

/**
 * The bar in the cold start (`coldStartHours`): no history to expect from, so only what would be a
 * spike at the `low` sensitivity, and mostly negative (a first day's ordinary busy hour, a campaign,
 * is not a crisis; a viral complaint on day one is). Never laxer than the settings themselves.
 */
const COLD_START_BAR = { pValue: SENSITIVITY_PRESETS.low.pValue, minRatio: SENSITIVITY_PRESETS.low.minRatio, minVolume: SENSITIVITY_PRESETS.low.minVolume, minNegativeShare: 0.5 };

export const DEFAULT_DETECTOR: DetectorSettings = {
  windowMinutes: 20,
  longWindowMinutes: 180,
  longVolumeFactor: 1.5,
  ...SENSITIVITY_PRESETS.medium,
  minNegativeShare: 0.3,
  growth: 2,
  cooldownMinutes: 60,
  coldStartHours: 24,
  minExpected: 0.3,
  backgroundShare: 0.2,
  timezone: 'Europe/Rome',
  brandNames: [],
};

/** One heard item as the detector sees it. */
export interface ObservedItem {
  id: string;
  /** Epoch milliseconds. */
  at: number;
  /** Where it was heard (a channel's name): for the source's cold start. */
  source: string;
  language: Language;
  text: string;
  author: { id: string; handle?: string; followers?: number };
  negative: boolean;
  spam: boolean;
}

/** A spike alert (the fields of `replay --json`, and more for people). */
export interface SpikeAlert {
  /** Stable id of the spike (its updates share it). */
  spikeId: string;
  /** ISO time the alert was raised (the triggering item's time). */
  at: string;
  topic: string;
  windowMinutes: number;
  /** Items of the topic in the window. */
  volume: number;
  /** Items expected in such a window at that hour and day. */
  baseline: number;
  negativeShare: number;
  update: boolean;
  /** A few items of the window, private data masked. */
  samples: string[];
  /** The window's authors with the largest reach. */
  topAuthors: Array<{ id: string; handle?: string; followers: number }>;
  /** Start of the window that raised the spike's first alert. */
  windowStart: string;
}

/** What observing an item gives: its topic and the alerts it raised. */
export interface Observation {
  topic?: string;
  /** The topic of the open spike the item belongs to, if any. */
  spike?: string;
  alerts: SpikeAlert[];
}

const HOUR = 3_600_000;
/** The long window's bucket. */
const BUCKET = 5 * 60_000;
/** Closed hours whose counts a series keeps, to leave them out of the baseline of a window they are in (up to 4 hours long). */
const RECENT_HOURS = 6;
/** The other items a window must expect before their rise lifts a word's baseline (a quiet stream's noise is not a rise). */
const MIN_OTHERS = 10;

interface WindowEntry {
  id: string;
  /** The author's id: a spike is many people, not one person posting again and again. */
  author: string;
  at: number;
  negative: boolean;
  source: string;
}

interface Series {
  key: string;
  surfaces: Map<string, number>;
  hod: Float64Array;
  hodDays: Uint16Array;
  how: Float64Array;
  howWeeks: Uint16Array;
  /** Epoch hour being counted, and its count. */
  hour: number;
  count: number;
  /** Items in closed hours. */
  total: number;
  /** Counts of the last closed hours (by epoch hour modulo `RECENT_HOURS`): a window's baseline leaves them out. */
  recentHours: Uint16Array;
  window: WindowEntry[];
  /**
   * The long window, in 5-minute buckets (a ring): people new to the word in each (an author counts
   * again only once their last count has left the window), and the negative ones among them. Fixed
   * size: no item is kept for it.
   */
  longPeople: Uint16Array;
  longNegative: Uint16Array;
  /** Epoch bucket of the ring's newest slot. */
  longBucket: number;
}

interface RecentItem {
  item: ObservedItem;
  terms: string[];
  /** Each term's word as written in this item (a topic's label says the words of its window). */
  surfaces: string[];
}

interface Spike {
  id: string;
  terms: Set<string>;
  label: string;
  /** Items a minute when it last alerted (see `rate`). */
  peak: number;
  lastFire: number;
  windowStart: number;
}

/** Ties between words: an incident's word (`TOPIC_WORDS`: "sito", "bloccato") before any other, then by key. */
function byKey(a: string, b: string): number {
  return Number(!a.startsWith('~')) - Number(!b.startsWith('~')) || (a < b ? -1 : a > b ? 1 : 0);
}

/** log(k!) for small k from a table, beyond by Stirling's series. */
const LOG_FACT: number[] = [0];
function logFactorial(k: number): number {
  if (k < 2000) {
    for (let i = LOG_FACT.length; i <= k; i++) LOG_FACT[i] = LOG_FACT[i - 1]! + Math.log(i);
    return LOG_FACT[k]!;
  }
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k);
}

/** P(X ≥ x) for X ~ Poisson(mu), summed upward from x (accurate for tiny tails). */
export function poissonTail(x: number, mu: number): number {
  if (x <= 0) return 1;
  if (mu <= 0) return 0;
  let sum = 0;
  for (let k = x; k < x + 1000; k++) {
    const term = Math.exp(-mu + k * Math.log(mu) - logFactorial(k));
    sum += term;
    if (k > mu && term < sum * 1e-12) break;
  }
  return Math.min(1, sum);
}

/** The detector: `observe` each item in time order. */
export interface SpikeDetector {
  observe(item: ObservedItem): Observation;
  /** The topic label an item would get now (without observing it). */
  topicOf(text: string, language: Language): string | undefined;
  /** Labels of the spikes open at `now` (epoch ms). */
  openSpikes(now: number): Array<{ id: string; topic: string; terms: string[] }>;
}

/** Creates a detector with the given settings (the defaults for the others). */
export function createSpikeDetector(settings: Partial<DetectorSettings> = {}): SpikeDetector {
  const s: DetectorSettings = { ...DEFAULT_DETECTOR, ...settings };
  const cautious = {
    pValue: Math.min(s.pValue, COLD_START_BAR.pValue),
    minRatio: Math.max(s.minRatio, COLD_START_BAR.minRatio),
    minVolume: Math.max(s.minVolume, COLD_START_BAR.minVolume),
    minNegativeShare: Math.max(s.minNegativeShare, COLD_START_BAR.minNegativeShare),
  };
  const windowMs = s.windowMinutes * 60_000;
  const longSlots = Math.max(0, Math.ceil(s.longWindowMinutes / 5));
  const longMs = longSlots * BUCKET;
  /** Word and author → when the author last counted in the word's long window (insertion order is time order). */
  const longCounted = new Map<string, number>();
  const ignore = brandWords(s.brandNames);
  const series = new Map<string, Series>();
  const recent = new Map<string, RecentItem>();
  const sourceSince = new Map<string, number>();
  let streamStart: number | undefined;
  let totalClosed = 0;
  let globalHour: number | undefined;
  let globalCount = 0;
  const spikes: Spike[] = [];
  /** Spikes ended less than a long window ago: their posts are still in it, and are not a new rise. */
  const ended: Spike[] = [];
  let spikeCounter = 0;

  // Hour of the day and of the week (0 = Monday 00:00) of an epoch hour, in the brand's zone.
  const slotCache = new Map<number, { hod: number; how: number }>();
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: s.timezone, weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
  const DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
  function slots(epochHour: number): { hod: number; how: number } {
    let found = slotCache.get(epochHour);
    if (!found) {
      const p = parts.formatToParts(new Date(epochHour * HOUR + 30 * 60_000));
      const hod = Number(p.find((x) => x.type === 'hour')!.value) % 24;
      const day = DAYS[p.find((x) => x.type === 'weekday')!.value] ?? 0;
      found = { hod, how: day * 24 + hod };
      if (slotCache.size > 5000) slotCache.clear();
      slotCache.set(epochHour, found);
    }
    return found;
  }

  const ALPHA_DAY = 0.3;
  const ALPHA_WEEK = 0.5;

  function closeHour(x: Series, hour: number, count: number): void {
    const { hod, how } = slots(hour);
    x.recentHours[hour % RECENT_HOURS] = Math.min(65_535, count);
    // The n-th observation of a slot weighs max(alpha, 1/n): a plain mean until the EWMA takes over.
    x.hodDays[hod] = Math.min(60_000, x.hodDays[hod]! + 1);
    x.hod[hod] = x.hod[hod]! + Math.max(ALPHA_DAY, 1 / x.hodDays[hod]!) * (count - x.hod[hod]!);
    x.howWeeks[how] = Math.min(60_000, x.howWeeks[how]! + 1);
    x.how[how] = x.how[how]! + Math.max(ALPHA_WEEK, 1 / x.howWeeks[how]!) * (count - x.how[how]!);
  }

  /** Brings a series' baseline up to `hour` (closing the hours between with zero items). */
  function roll(x: Series, hour: number): void {
    if (hour <= x.hour) return;
    closeHour(x, x.hour, x.count);
    x.total += x.count;
    const gap = Math.min(hour - x.hour - 1, 24 * 7 * 3);
    for (let h = hour - gap; h < hour; h++) closeHour(x, h, 0);
    x.hour = hour;
    x.count = 0;
  }

  function seriesOf(term: Term, hour: number): Series {
    let x = series.get(term.key);
    if (!x) {
      // A word first heard now: every hour since the stream began had none of it.
      const start = Math.floor((streamStart ?? hour * HOUR) / HOUR);
      x = { key: term.key, surfaces: new Map(), hod: new Float64Array(24), hodDays: new Uint16Array(24), how: new Float64Array(168), howWeeks: new Uint16Array(168), hour: start, count: 0, total: 0, recentHours: new Uint16Array(RECENT_HOURS), window: [], longPeople: new Uint16Array(longSlots), longNegative: new Uint16Array(longSlots), longBucket: 0 };
      const gap = Math.min(hour - start, 24 * 7 * 3);
      for (let h = hour - gap; h < hour; h++) closeHour(x, h, 0);
      x.hour = hour;
      series.set(term.key, x);
    }
    roll(x, hour);
    return x;
  }

  /** A slot's value before its last observation `c` (the n-th, weighing max(alpha, 1/n)) was folded in. */
  function before(v: number, n: number, alpha: number, c: number): number {
    const w = n > 0 ? Math.max(alpha, 1 / n) : 1;
    return w >= 1 ? 0 : Math.max(0, (v - w * c) / (1 - w));
  }

  /** Items expected in the window (`span` ms, the short one by default) ending at `now`, from the seasonal baseline. */
  function expected(x: Series, now: number, span = windowMs): number {
    let sum = 0;
    const stepMs = 5 * 60_000;
    for (let t = now - span + stepMs / 2; t < now; t += stepMs) {
      const hour = Math.floor(t / HOUR);
      const { hod, how } = slots(hour);
      let rate = Math.max(x.hod[hod]!, x.howWeeks[how]! > 0 ? x.how[how]! : 0);
      if (hour < x.hour && hour > x.hour - RECENT_HOURS) {
        // An hour of this window already closed into the baseline: expect what was expected before it
        // (the EWMA step undone), or a rise would be its own baseline an hour later.
        const c = x.recentHours[hour % RECENT_HOURS]!;
        rate = Math.max(before(x.hod[hod]!, x.hodDays[hod]!, ALPHA_DAY, c), x.howWeeks[how]! > 1 ? before(x.how[how]!, x.howWeeks[how]!, ALPHA_WEEK, c) : 0);
      }
      sum += (rate * Math.min(stepMs, now - (t - stepMs / 2))) / HOUR;
    }
    return sum;
  }

  /** Moves a series' long ring to the bucket of `now`, emptying the buckets that left the window. */
  function rollLong(x: Series, now: number): void {
    const b = Math.floor(now / BUCKET);
    if (b <= x.longBucket) return;
    const steps = Math.min(b - x.longBucket, longSlots);
    for (let i = 1; i <= steps; i++) {
      const slot = (x.longBucket + i) % longSlots;
      x.longPeople[slot] = 0;
      x.longNegative[slot] = 0;
    }
    x.longBucket = b;
  }

  /** Counts an item in a series' long window: once an author (`byAuthor`), else every item (the whole stream). */
  function addLong(x: Series, item: ObservedItem, now: number, byAuthor: boolean): void {
    if (longSlots === 0) return;
    rollLong(x, now);
    const b = x.longBucket;
    if (byAuthor) {
      const key = `${x.key}\u0000${item.author.id}`;
      const last = longCounted.get(key);
      if (last !== undefined && last > b - longSlots) return;
      longCounted.delete(key);
      longCounted.set(key, b);
    }
    const slot = b % longSlots;
    x.longPeople[slot] = Math.min(65_535, x.longPeople[slot]! + 1);
    if (item.negative) x.longNegative[slot] = Math.min(65_535, x.longNegative[slot]! + 1);
  }

  function sumOf(a: Uint16Array): number {
    let n = 0;
    for (const v of a) n += v;
    return n;
  }

  /** The long window's span ending at `now`: its full buckets and the current one's part. */
  function longSpan(now: number): number {
    return now - (Math.floor(now / BUCKET) - longSlots + 1) * BUCKET;
  }

  /** The long window's items of a word, from the recent items (only when it alerts: nothing is kept for it). */
  function longEntries(key: string, now: number): WindowEntry[] {
    const from = now - longSpan(now);
    const out: WindowEntry[] = [];
    const authors = new Set<string>();
    for (const { item, terms } of recent.values()) {
      if (item.at < from || item.spam || !terms.includes(key) || authors.has(item.author.id)) continue;
      authors.add(item.author.id);
      out.push({ id: item.id, author: item.author.id, at: item.at, negative: item.negative, source: item.source });
    }
    return out;
  }

  /** Items of a series' closed hours, less those of the hours inside the window (`span` ms) ending at `now`. */
  function settled(x: Series, now: number, span: number): number {
    let n = x.total;
    for (let h = Math.max(Math.floor((now - span) / HOUR), x.hour - RECENT_HOURS + 1); h < x.hour; h++) n -= x.recentHours[h % RECENT_HOURS]!;
    return Math.max(0, n);
  }

  function surface(x: Series): string {
    let best = x.key;
    let n = -1;
    for (const [word, c] of x.surfaces) if (c > n) [best, n] = [word, c];
    return best;
  }

  function isBackground(x: Series): boolean {
    return totalClosed >= 100 && x.total / totalClosed > s.backgroundShare;
  }

  function prune(x: Series, now: number): void {
    while (x.window.length > 0 && x.window[0]!.at <= now - windowMs) x.window.shift();
  }

  /** Distinct window items of a spike's words. */
  function spikeWindow(spike: Spike, now: number): WindowEntry[] {
    const seen = new Map<string, WindowEntry>();
    for (const key of spike.terms) {
      const x = series.get(key);
      if (!x) continue;
      prune(x, now);
      for (const e of x.window) seen.set(e.id, e);
    }
    return [...seen.values()];
  }

  function describe(spike: Spike, entries: WindowEntry[], now: number, baseline: number, update: boolean, windowMinutes = s.windowMinutes): SpikeAlert {
    const items = entries.map((e) => recent.get(e.id)?.item).filter((i): i is ObservedItem => i !== undefined);
    const negatives = entries.filter((e) => e.negative).length;
    const authors = new Map<string, { id: string; handle?: string; followers: number }>();
    for (const i of items) authors.set(i.author.id, { id: i.author.id, ...(i.author.handle ? { handle: i.author.handle } : {}), followers: i.author.followers ?? 0 });
    return {
      spikeId: spike.id,
      at: new Date(now).toISOString(),
      topic: spike.label,
      windowMinutes,
      volume: entries.length,
      baseline: Number(baseline.toFixed(2)),
      negativeShare: entries.length ? Number((negatives / entries.length).toFixed(2)) : 0,
      update,
      samples: items.slice(-3).map((i) => maskPrivateData(i.text).slice(0, 280)),
      topAuthors: [...authors.values()].sort((a, b) => b.followers - a.followers).slice(0, 3),
      windowStart: new Date(spike.windowStart).toISOString(),
    };
  }

  /** The words most of a window's items share with `anchor`, for the label (by how many share them). */
  function labelFor(anchor: Series, entries: readonly WindowEntry[] = anchor.window, long = false): { label: string; terms: Set<string> } {
    const counts = new Map<string, number>();
    // The words as the window's items write them: "spedizione" for a spike of posts saying it, though
    // its group ("consegna", "delivery"…) is said otherwise on most days.
    const written = new Map<string, Map<string, number>>();
    for (const e of entries) {
      const r = recent.get(e.id);
      r?.terms.forEach((key, i) => {
        if (key !== anchor.key) counts.set(key, (counts.get(key) ?? 0) + 1);
        const forms = written.get(key) ?? new Map<string, number>();
        forms.set(r.surfaces[i]!, (forms.get(r.surfaces[i]!) ?? 0) + 1);
        written.set(key, forms);
      });
    }
    const wordOf = (x: Series): string => {
      const forms = [...(written.get(x.key) ?? [])].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      return forms[0]?.[0] ?? surface(x);
    };
    // Words most of the window shares (three items at least): a chance companion stays out.
    const half = Math.max(3, entries.length * 0.6);
    const co = [...counts.entries()]
      .filter(([key, c]) => c >= half && !isBackground(series.get(key)!))
      .sort((a, b) => b[1] - a[1] || byKey(a[0], b[0]));
    const terms = new Set([anchor.key, ...co.map(([k]) => k)]);
    // Ordered by their items in the window (the long window's: those the anchor's items share).
    const words = [anchor, ...co.slice(0, 2).map(([k]) => series.get(k)!)]
      .map((x) => ({ w: wordOf(x), n: long ? (x === anchor ? entries.length : counts.get(x.key)!) : x.window.length }))
      .sort((a, b) => b.n - a.n || (a.w < b.w ? -1 : 1))
      .map((x) => x.w);
    return { label: words.join(' '), terms };
  }

  function openSpike(now: number, terms: readonly string[]): Spike | undefined {
    for (const spike of spikes) if (now - spike.lastFire <= s.cooldownMinutes * 60_000 && terms.some((t) => spike.terms.has(t))) return spike;
    return undefined;
  }

  function closeOld(now: number): void {
    for (let i = spikes.length - 1; i >= 0; i--) {
      if (now - spikes[i]!.lastFire > s.cooldownMinutes * 60_000) ended.push(...spikes.splice(i, 1));
    }
    for (let i = ended.length - 1; i >= 0; i--) if (now - ended[i]!.lastFire > longMs) ended.splice(i, 1);
  }

  /** Every heard item (spam aside), as one series: the stream's own volume and baseline. */
  const ALL: Term = { key: '\u0000all', surface: '' };

  function fires(x: Series, now: number): { fire: boolean; baseline: number } {
    // A rise of the whole stream (a Monday morning, a holiday, a campaign that makes everyone
    // post) lifts every word's expectation alike: the word's baseline is scaled by how much the
    // other items of the window exceed theirs (never down; not for a quiet stream).
    // And a word's usual share of the stream, applied to the window's other items, keeps a busy
    // window's ordinary words expected even where the word's own hourly baseline is thin.
    const own = expected(x, now);
    const all = series.get(ALL.key);
    let lift = 1;
    let byShare = 0;
    if (all) {
      prune(all, now);
      const others = all.window.length - x.window.length;
      const othersExpected = Math.max(expected(all, now) - own, MIN_OTHERS);
      const span = windowMs;
      lift = Math.max(1, others / othersExpected);
      const allTotal = settled(all, now, span);
      if (allTotal > 0) byShare = (settled(x, now, span) / allTotal) * Math.max(0, others);
    }
    const baseline = Math.max(own * lift, byShare);
    const mu = Math.max(baseline, s.minExpected);
    // Without a day of history the baseline means little: only a spike that clears the cautious bar.
    const bar = young(x.window, now) ? cautious : s;
    // People, not posts: one customer posting six times, or a post redelivered, is not six voices.
    const volume = new Set(x.window.map((e) => e.author)).size;
    if (volume < bar.minVolume || volume < bar.minRatio * mu) return { fire: false, baseline };
    if (poissonTail(volume, mu) >= bar.pValue) return { fire: false, baseline };
    const negatives = x.window.filter((e) => e.negative).length;
    if (negatives / x.window.length < bar.minNegativeShare) return { fire: false, baseline };
    return { fire: true, baseline };
  }

  /**
   * The slow rise: the word's people over the long window against the same seasonal baseline (lifted
   * by the stream's own rise, floored by the word's share, as in `fires`), with `longVolumeFactor`
   * times the volume bar. Only the buckets' sums: nothing per item.
   */
  /** The whole stream's expected count over the long window, once an item. */
  let allLong = { at: Number.NaN, expected: 0 };

  function firesLong(x: Series, now: number): { fire: boolean; baseline: number } {
    if (longSlots === 0) return { fire: false, baseline: 0 };
    rollLong(x, now);
    const volume = sumOf(x.longPeople);
    const bar = s;
    if (volume < bar.minVolume * s.longVolumeFactor) return { fire: false, baseline: 0 };
    // In the cold start there is no baseline to tell a slow rise from an ordinary busy morning: only
    // the short window's burst, over the cautious bar, alerts then.
    if (young(x.window, now)) return { fire: false, baseline: 0 };
    // The cheap tests first: the negative share, then the word's share of the stream.
    if (sumOf(x.longNegative) / volume < bar.minNegativeShare) return { fire: false, baseline: 0 };
    const span = longSpan(now);
    const all = series.get(ALL.key);
    let others = 0;
    let byShare = 0;
    if (all) {
      rollLong(all, now);
      others = sumOf(all.longPeople) - volume;
      const allTotal = settled(all, now, span);
      if (allTotal > 0) byShare = (settled(x, now, span) / allTotal) * Math.max(0, others);
      if (volume < bar.minRatio * byShare) return { fire: false, baseline: byShare };
    }
    const own = expected(x, now, span);
    let lift = 1;
    if (all) {
      if (allLong.at !== now) allLong = { at: now, expected: expected(all, now, span) };
      lift = Math.max(1, others / Math.max(allLong.expected - own, MIN_OTHERS));
    }
    const baseline = Math.max(own * lift, byShare);
    const mu = Math.max(baseline, s.minExpected);
    if (volume < bar.minRatio * mu || poissonTail(volume, mu) >= bar.pValue) return { fire: false, baseline };
    return { fire: true, baseline };
  }

  /**
   * Items a minute of a spike: the window's items over the time the newest 90% of them span (at
   * least 3 minutes), so a window still filling up at a steady pace is not growth.
   */
  function rate(entries: WindowEntry[], now: number): number {
    const times = entries.map((e) => e.at).sort((a, b) => a - b);
    const from = times[Math.floor(times.length * 0.1)] ?? now;
    return entries.length / Math.max(3, (now - from) / 60_000);
  }

  /**
   * In the cold start: the stream has less than `coldStartHours` of history, or most of the
   * window's items come from a source heard for less than that.
   */
  function young(entries: readonly WindowEntry[], now: number): boolean {
    if (streamStart === undefined || now - streamStart < s.coldStartHours * HOUR) return true;
    const fromYoung = entries.filter((e) => now - (sourceSince.get(e.source) ?? now) < s.coldStartHours * HOUR).length;
    return fromYoung * 2 > entries.length;
  }

  function topicFromTerms(terms: Term[], now: number): string | undefined {
    const open = openSpike(now, terms.map((t) => t.key));
    if (open) return open.label;
    let best: Series | undefined;
    let bestScore = -1;
    for (const t of terms) {
      const x = series.get(t.key);
      if (!x || isBackground(x)) continue;
      const score = x.window.length * 10 + x.hod.reduce((a, b) => a + b, 0);
      if (score > bestScore) [best, bestScore] = [x, score];
    }
    if (best) return surface(best);
    const first = terms.find((t) => !series.get(t.key) || !isBackground(series.get(t.key)!));
    return first?.surface;
  }

  return {
    topicOf(text, language) {
      return topicFromTerms(contentTerms(text, language, ignore), streamStart ?? 0);
    },

    openSpikes(now) {
      return spikes.filter((sp) => now - sp.lastFire <= s.cooldownMinutes * 60_000).map((sp) => ({ id: sp.id, topic: sp.label, terms: [...sp.terms] }));
    },

    observe(item) {
      const now = item.at;
      // The same post again (redelivered, heard by search and stream): counted once.
      if (recent.has(item.id)) {
        const open = openSpike(now, recent.get(item.id)!.terms);
        return { topic: topicFromTerms(contentTerms(item.text, item.language, ignore), now), ...(open ? { spike: open.label } : {}), alerts: [] };
      }
      streamStart ??= now;
      if (!sourceSince.has(item.source)) sourceSince.set(item.source, now);
      const hour = Math.floor(now / HOUR);
      if (globalHour === undefined) globalHour = hour;
      if (hour > globalHour) {
        totalClosed += globalCount;
        globalCount = 0;
        globalHour = hour;
      }
      const terms = contentTerms(item.text, item.language, ignore);
      closeOld(now);
      if (item.spam || terms.length === 0) return { topic: item.spam ? undefined : topicFromTerms(terms, now), alerts: [] };

      globalCount += 1;
      const stream = seriesOf(ALL, hour);
      stream.count += 1;
      prune(stream, now);
      stream.window.push({ id: item.id, author: item.author.id, at: now, negative: item.negative, source: item.source });
      addLong(stream, item, now, false);
      // Authors whose last count has left every long window are forgotten (oldest first).
      for (const [key, bucket] of longCounted) {
        if (bucket > Math.floor(now / BUCKET) - longSlots) break;
        longCounted.delete(key);
      }
      const touched: Series[] = [];
      for (const t of terms) {
        const x = seriesOf(t, hour);
        x.count += 1;
        x.surfaces.set(t.surface, (x.surfaces.get(t.surface) ?? 0) + 1);
        if (x.surfaces.size > 8) {
          const least = [...x.surfaces.entries()].sort((a, b) => a[1] - b[1])[0]![0];
          if (least !== t.surface) x.surfaces.delete(least);
        }
        prune(x, now);
        x.window.push({ id: item.id, author: item.author.id, at: now, negative: item.negative, source: item.source });
        addLong(x, item, now, true);
        touched.push(x);
      }
      recent.set(item.id, { item, terms: terms.map((t) => t.key), surfaces: terms.map((t) => t.surface) });
      if (recent.size > 50_000) recent.delete(recent.keys().next().value!);

      const alerts: SpikeAlert[] = [];
      // Firing words, most items first: the strongest word anchors a new spike.
      // A word fires on the short window (a burst) or, failing that, on the long one (a slow rise).
      const firing = touched
        .filter((x) => !isBackground(x))
        .map((x) => {
          const short = fires(x, now);
          return short.fire ? { x, ...short, long: false } : { x, ...firesLong(x, now), long: true };
        })
        .filter((f) => f.fire)
        .sort((a, b) => Number(a.long) - Number(b.long) || b.x.window.length - a.x.window.length || byKey(a.x.key, b.x.key));
      for (const { x, baseline, long } of firing) {
        let spike = openSpike(now, [x.key]);
        if (!spike) {
          // Most of this word's items belong to an open spike, or the word names the same kind of incident
          // ("consegne" while "ordine" is open, "logout" while "login" is): the word joins it.
          const family = topicFamily(x.key);
          spike = spikes.find(
            (sp) =>
              (family !== undefined && [...sp.terms].some((k) => topicFamily(k) === family)) ||
              x.window.filter((e) => recent.get(e.id)?.terms.some((k) => sp.terms.has(k))).length * 2 >= x.window.length,
          );
          if (spike) spike.terms.add(x.key);
        }
        if (spike) {
          const entries = spikeWindow(spike, now);
          spike.lastFire = now;
          // Grown: the window holds `growth` times what the pace of the last alert would fill it with.
          if (entries.length >= spike.peak * s.growth * s.windowMinutes) {
            spike.peak = rate(entries, now);
            alerts.push(describe(spike, entries, now, baseline, true));
          }
          continue;
        }
        const anchorEntries = long ? longEntries(x.key, now) : x.window;
        // A long window mostly holding a spike that has ended is its aftermath, not a new rise.
        const carries = (sp: Spike) => anchorEntries.filter((e) => recent.get(e.id)?.terms.some((k) => sp.terms.has(k))).length * 2 >= anchorEntries.length;
        if (long && ended.some(carries)) continue;
        const { label, terms: group } = labelFor(x, anchorEntries, long);
        spikeCounter += 1;
        // Its time in the id: a counter alone starts again at every restart, and the next spike's alert
        // mail then had the Message-ID of an earlier one (mail readers drop or thread it as that one).
        const span = long ? longMs : windowMs;
        const fresh: Spike = { id: `spike-${now.toString(36)}-${spikeCounter}`, terms: group, label, peak: 0, lastFire: now, windowStart: now - span };
        spikes.push(fresh);
        const entries = long ? anchorEntries : spikeWindow(fresh, now);
        fresh.peak = rate(entries, now);
        alerts.push(describe(fresh, entries, now, baseline, false, Math.round(span / 60_000)));
      }
      const open = openSpike(now, terms.map((t) => t.key));
      return { topic: topicFromTerms(terms, now), ...(open ? { spike: open.label } : {}), alerts };
    },
  };
}
