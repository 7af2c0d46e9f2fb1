/**
 * @module handoff/business-hours
 * When the care team is at work: a weekly schedule in the team's local time, minus holidays.
 * Local times are turned into instants with `Intl.DateTimeFormat` in the team's time zone, so
 * daylight-saving changes are the time-zone database's business, never a hand-written offset.
 */
import type { DayName, WeeklySchedule } from '../config/config.js';
import type { Language } from '../core/types.js';

/** Open/closed questions about one team's hours. */
export interface BusinessHours {
  readonly timezone: string;
  /** True when `at` falls inside an opening interval of a working day. */
  isOpen(at: Date): boolean;
  /** The next instant the team is open: `at` itself when open now. Throws when the schedule never opens. */
  nextOpening(at: Date): Date;
  /** Milliseconds of open time between two instants (0 when `to` is not after `from`). */
  businessMsBetween(from: Date, to: Date): number;
  /** The instant reached after `ms` of open time starting at `from`. */
  addBusinessMs(from: Date, ms: number): Date;
}

/** Options of `createBusinessHours`. */
export interface BusinessHoursOptions {
  /** IANA time zone of the team, e.g. `Europe/Rome`. */
  timezone: string;
  schedule: WeeklySchedule;
  /** Local dates (YYYY-MM-DD) closed all day. */
  holidays: string[];
}

const DAY_NAMES: readonly DayName[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY = 86_400_000;
/** How far ahead to look for an opening: a year and a week covers any holiday list. */
const HORIZON_DAYS = 373;

/** A calendar date in the team's time zone. */
interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** Formatter and conversions for one time zone (cached per instance, no globals). */
function createZone(timezone: string) {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });

  /** Local wall-clock fields of an instant. */
  function fields(ms: number) {
    const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of fmt.formatToParts(new Date(ms))) {
      if (part.type in out) out[part.type as keyof typeof out] = Number(part.value);
    }
    return out;
  }

  /** Local time minus UTC at an instant, in ms (whole seconds). */
  function offsetAt(ms: number): number {
    const f = fields(ms);
    const whole = ms - (((ms % 1000) + 1000) % 1000);
    return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - whole;
  }

  // The offset of each quarter hour, worked out once: queue views ask for the local date of every
  // waiting conversation, and formatting through Intl costs microseconds each time. Time zones change
  // their offset on a quarter hour at the finest; a quarter whose two ends disagree (it holds a
  // change) is formatted exactly every time.
  const QUARTER = 15 * 60_000;
  const quarters = new Map<number, number | null>();
  function quarterOffset(ms: number): number | null {
    const q = Math.floor(ms / QUARTER);
    let offset = quarters.get(q);
    if (offset === undefined) {
      const start = offsetAt(q * QUARTER);
      offset = start === offsetAt((q + 1) * QUARTER - 1000) ? start : null;
      if (quarters.size >= 10_000) quarters.clear();
      quarters.set(q, offset);
    }
    return offset;
  }

  return {
    localDate(at: Date): LocalDate {
      const ms = at.getTime();
      const offset = quarterOffset(ms);
      if (offset === null) {
        const f = fields(ms);
        return { year: f.year, month: f.month, day: f.day };
      }
      const local = new Date(ms + offset);
      return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
    },
    /** The instant of `minutes` after local midnight of `date` (1440 = the next midnight). */
    instant(date: LocalDate, minutes: number): number {
      const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
      // Two passes settle the offset on either side of a DST change. A wall time the change skips
      // has no instant: the later candidate is taken, which moves it forward by the skipped time
      // (02:30 on the night clocks go from 2:00 to 3:00 is 03:30, after the change, when such an
      // opening really begins). The second pass alone did so east of Greenwich only: in New York
      // 02:30 became 01:30, and Santiago's Saturday 24:00 (clocks from 0:00 to 1:00) ended an hour early.
      const first = wall - offsetAt(wall);
      const second = wall - offsetAt(first);
      return second + offsetAt(second) === wall ? second : Math.max(first, second);
    },
  };
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function isoDate(date: LocalDate): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

function weekday(date: LocalDate): DayName {
  return DAY_NAMES[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()]!;
}

/** Calendar days from `a` to `b` (both local dates). */
function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY);
}

/** Creates the business-hours calendar of one team. */
export function createBusinessHours(options: BusinessHoursOptions): BusinessHours {
  const zone = createZone(options.timezone);
  const holidays = new Set(options.holidays);
  const { schedule } = options;
  const neverOpens = DAY_NAMES.every((d) => schedule[d].length === 0);

  // Day → its opening intervals as instants. Queue views ask about the same few days for every
  // row; formatting through Intl is the costly part, so each day is worked out once.
  const dayCache = new Map<string, Array<[number, number]>>();
  function openingsOf(date: LocalDate): Array<[number, number]> {
    const key = isoDate(date);
    let intervals = dayCache.get(key);
    if (!intervals) {
      intervals = holidays.has(key) ? [] : schedule[weekday(date)].map(([start, end]): [number, number] => [zone.instant(date, start), zone.instant(date, end)]);
      if (dayCache.size >= 2000) dayCache.clear();
      dayCache.set(key, intervals);
    }
    return intervals;
  }

  /** Opening intervals [start, end) in epoch ms of the local days from `at`'s day on, in order. */
  function* intervalsFrom(at: Date, maxDays = HORIZON_DAYS): Generator<[number, number]> {
    let date = zone.localDate(at);
    for (let i = 0; i < maxDays; i++, date = addDays(date, 1)) yield* openingsOf(date);
  }

  function nextOpening(at: Date): Date {
    const t = at.getTime();
    if (!neverOpens) {
      for (const [start, end] of intervalsFrom(at)) {
        if (end > t) return new Date(Math.max(start, t));
      }
    }
    throw new RangeError(`the business hours never open within ${HORIZON_DAYS} days of ${at.toISOString()}`);
  }

  return {
    timezone: options.timezone,
    isOpen(at) {
      const t = at.getTime();
      for (const [start, end] of intervalsFrom(at, 1)) if (start <= t && t < end) return true;
      return false;
    },
    nextOpening,
    businessMsBetween(from, to) {
      const a = from.getTime();
      const b = to.getTime();
      if (b <= a || neverOpens) return 0;
      let total = 0;
      const days = Math.ceil((b - a) / DAY) + 2;
      for (const [start, end] of intervalsFrom(from, days)) {
        if (start >= b) break;
        total += Math.max(0, Math.min(end, b) - Math.max(start, a));
      }
      return total;
    },
    addBusinessMs(from, ms) {
      if (ms <= 0) return new Date(from.getTime());
      let left = ms;
      let cursor = from.getTime();
      // A long SLA may need more than one horizon of calendar; a horizon without any opening
      // means the hours never open, and nextOpening says so.
      for (;;) {
        let progressed = false;
        for (const [start, end] of intervalsFrom(new Date(cursor))) {
          if (end <= cursor) continue;
          const begin = Math.max(start, cursor);
          if (left <= end - begin) return new Date(begin + left);
          left -= end - begin;
          cursor = end;
          progressed = true;
        }
        if (!progressed) nextOpening(new Date(cursor));
      }
    },
  };
}

/** Words of `describeWhen` per language. */
const WHEN_WORDS: Record<Language, { today: string; tomorrow: string; at: (time: string, hour: number) => string }> = {
  it: { today: 'oggi', tomorrow: 'domani', at: (time, hour) => (hour === 1 ? `all'${time}` : `alle ${time}`) },
  en: { today: 'today', tomorrow: 'tomorrow', at: (time) => `at ${time}` },
};

/**
 * A short phrase for when something happens, as the customer reads it: "oggi alle 14:00",
 * "domani alle 9:00", "lunedì alle 9:00", "lunedì 12 gennaio alle 9:00"; in English
 * "today at 2:00 PM", "tomorrow at 9:00 AM", "on Monday at 9:00 AM", "on Monday, January 12 at 9:00 AM".
 */
export function describeWhen(at: Date, now: Date, language: Language, timezone: string): string {
  const zone = createZone(timezone);
  const words = WHEN_WORDS[language];
  const hourParts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', hour: 'numeric', minute: '2-digit' }).formatToParts(at);
  const hour = Number(hourParts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = hourParts.find((p) => p.type === 'minute')?.value ?? '00';
  const time =
    language === 'it'
      ? `${hour}:${minute}`
      : new Intl.DateTimeFormat('en-US', { timeZone: timezone, hour: 'numeric', minute: '2-digit', hour12: true }).format(at);
  const days = daysBetween(zone.localDate(now), zone.localDate(at));
  const atTime = words.at(time, hour);
  if (days === 0) return `${words.today} ${atTime}`;
  if (days === 1) return `${words.tomorrow} ${atTime}`;
  const locale = language === 'it' ? 'it-IT' : 'en-US';
  const dayName = new Intl.DateTimeFormat(locale, { timeZone: timezone, weekday: 'long' }).format(at);
  if (days > 1 && days < 7) return language === 'it' ? `${dayName} ${atTime}` : `on ${dayName} ${atTime}`;
  const dayMonth = new Intl.DateTimeFormat(locale, { timeZone: timezone, day: 'numeric', month: 'long' }).format(at);
  return language === 'it' ? `${dayName} ${dayMonth} ${atTime}` : `on ${dayName}, ${dayMonth} ${atTime}`;
}

/** The team's local calendar date (YYYY-MM-DD) of an instant, in `timezone`. */
export function localDateOf(at: Date, timezone: string): string {
  return isoDate(createZone(timezone).localDate(at));
}

/** The instant of local midnight starting `date` (YYYY-MM-DD) in `timezone` (DST-safe). */
export function localMidnight(date: string, timezone: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(createZone(timezone).instant({ year, month, day }, 0));
}

/** The local date `days` after `date` (YYYY-MM-DD). */
export function addLocalDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return isoDate(addDays({ year, month, day }, days));
}
