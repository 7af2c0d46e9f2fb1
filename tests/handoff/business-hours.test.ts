import { describe, expect, it } from '@jest/globals';
import { parseSchedule } from '../../src/config/config.js';
import { createBusinessHours, describeWhen } from '../../src/handoff/business-hours.js';

const HOUR = 3_600_000;
const rome = (spec = 'mon-fri=09:00-18:00,sat=09:00-13:00', holidays: string[] = []) =>
  createBusinessHours({ timezone: 'Europe/Rome', schedule: parseSchedule(spec), holidays });
const d = (iso: string) => new Date(iso);

describe('business hours', () => {
  it('is open on a weekday morning and closed at night, on Sunday and on Saturday afternoon', () => {
    const hours = rome();
    expect(hours.isOpen(d('2026-11-23T09:00:00Z'))).toBe(true); // Mon 10:00 CET
    expect(hours.isOpen(d('2026-11-23T07:59:59Z'))).toBe(false); // Mon 08:59:59
    expect(hours.isOpen(d('2026-11-23T08:00:00Z'))).toBe(true); // Mon 09:00 exactly
    expect(hours.isOpen(d('2026-11-23T17:00:00Z'))).toBe(false); // Mon 18:00: the interval is half-open
    expect(hours.isOpen(d('2026-11-28T11:59:00Z'))).toBe(true); // Sat 12:59
    expect(hours.isOpen(d('2026-11-28T12:00:00Z'))).toBe(false); // Sat 13:00
    expect(hours.isOpen(d('2026-11-29T10:00:00Z'))).toBe(false); // Sunday
  });

  it('returns the instant itself as the next opening when open', () => {
    const at = d('2026-11-24T10:17:00Z');
    expect(rome().nextOpening(at).toISOString()).toBe(at.toISOString());
  });

  it('reopens on Monday morning after a Saturday whose hours end mid-day', () => {
    expect(rome().nextOpening(d('2026-11-28T13:30:00Z')).toISOString()).toBe('2026-11-30T08:00:00.000Z');
  });

  it('skips a holiday in local time, all day long', () => {
    const hours = rome(undefined, ['2026-12-08']);
    expect(hours.isOpen(d('2026-12-08T10:00:00Z'))).toBe(false); // Tuesday, Immacolata
    // Monday 7 December 18:30 → Wednesday 9 December 09:00 CET
    expect(hours.nextOpening(d('2026-12-07T17:30:00Z')).toISOString()).toBe('2026-12-09T08:00:00.000Z');
    // the holiday is a local date: 23:30 UTC on the 7th is already the 8th in Rome
    expect(hours.businessMsBetween(d('2026-12-07T23:30:00Z'), d('2026-12-08T23:00:00Z'))).toBe(0);
  });

  it('counts only open time between two instants across a weekend', () => {
    // Friday 17:00 → Monday 10:00 CET: 1 h Friday + 4 h Saturday + 1 h Monday
    expect(rome().businessMsBetween(d('2026-11-27T16:00:00Z'), d('2026-11-30T09:00:00Z'))).toBe(6 * HOUR);
    expect(rome().businessMsBetween(d('2026-11-30T09:00:00Z'), d('2026-11-27T16:00:00Z'))).toBe(0);
  });

  it('adds business time across the end of an interval, a split day and a weekend', () => {
    const split = rome('mon-fri=09:00-13:00+14:00-18:00');
    // Monday 12:30 + 1 h → 14:30 (the lunch break does not count)
    expect(split.addBusinessMs(d('2026-11-23T11:30:00Z'), HOUR).toISOString()).toBe('2026-11-23T13:30:00.000Z');
    // Saturday 12:30 + 1 h → 30 min on Saturday, then Monday 09:30
    expect(rome().addBusinessMs(d('2026-11-28T11:30:00Z'), HOUR).toISOString()).toBe('2026-11-30T08:30:00.000Z');
    // Sunday + 15 min → Monday 09:15
    expect(rome().addBusinessMs(d('2026-11-29T10:00:00Z'), 15 * 60_000).toISOString()).toBe('2026-11-30T08:15:00.000Z');
    // exactly filling an interval ends at its end
    expect(rome().addBusinessMs(d('2026-11-28T08:00:00Z'), 4 * HOUR).toISOString()).toBe('2026-11-28T12:00:00.000Z');
  });

  it('keeps local opening times when daylight-saving time starts', () => {
    const hours = rome();
    // Saturday 28 March 2026 12:00 CET (UTC+1) + 2 h: 1 h Saturday, then Monday 30 March 09:00 CEST (UTC+2) + 1 h
    expect(hours.addBusinessMs(d('2026-03-28T11:00:00Z'), 2 * HOUR).toISOString()).toBe('2026-03-30T08:00:00.000Z');
    expect(hours.nextOpening(d('2026-03-29T12:00:00Z')).toISOString()).toBe('2026-03-30T07:00:00.000Z');
  });

  it('counts the short and the long day of daylight-saving changes exactly', () => {
    const always = rome('sun-sat=00:00-24:00');
    // Sunday 29 March 2026 has 23 hours in Rome, Sunday 25 October 25 hours.
    expect(always.businessMsBetween(d('2026-03-28T23:00:00Z'), d('2026-03-29T22:00:00Z'))).toBe(23 * HOUR);
    expect(always.businessMsBetween(d('2026-10-24T22:00:00Z'), d('2026-10-25T23:00:00Z'))).toBe(25 * HOUR);
    const sundays = rome('sun=00:00-24:00');
    expect(sundays.businessMsBetween(d('2026-03-27T00:00:00Z'), d('2026-04-01T00:00:00Z'))).toBe(23 * HOUR);
  });

  it('works in another time zone and across the date line of the schedule', () => {
    const ny = createBusinessHours({ timezone: 'America/New_York', schedule: parseSchedule('mon-fri=09:00-17:00'), holidays: [] });
    expect(ny.isOpen(d('2026-11-23T14:00:00Z'))).toBe(true); // 09:00 EST
    expect(ny.isOpen(d('2026-11-23T13:59:00Z'))).toBe(false);
    // US DST ends 1 November 2026: Friday 30 October 09:00 EDT is 13:00Z
    expect(ny.nextOpening(d('2026-10-30T02:00:00Z')).toISOString()).toBe('2026-10-30T13:00:00.000Z');
  });

  it('says clearly when hours never open instead of looping', () => {
    const never = rome('mon=09:00-10:00', ['2026-11-30']);
    expect(never.nextOpening(d('2026-11-29T10:00:00Z')).toISOString()).toBe('2026-12-07T08:00:00.000Z');
    const closed = createBusinessHours({ timezone: 'Europe/Rome', schedule: parseSchedule(''), holidays: [] });
    expect(() => closed.nextOpening(d('2026-11-29T10:00:00Z'))).toThrow(/never open/);
    expect(() => closed.addBusinessMs(d('2026-11-29T10:00:00Z'), HOUR)).toThrow(/never open/);
  });
});

describe('describeWhen', () => {
  const now = d('2026-11-23T19:00:00Z'); // Monday 20:00 in Rome

  it('says today, tomorrow and a weekday in Italian', () => {
    expect(describeWhen(d('2026-11-23T13:00:00Z'), d('2026-11-23T07:00:00Z'), 'it', 'Europe/Rome')).toBe('oggi alle 14:00');
    expect(describeWhen(d('2026-11-24T08:00:00Z'), now, 'it', 'Europe/Rome')).toBe('domani alle 9:00');
    expect(describeWhen(d('2026-11-30T08:00:00Z'), d('2026-11-28T13:00:00Z'), 'it', 'Europe/Rome')).toBe('lunedì alle 9:00');
    expect(describeWhen(d('2026-11-24T00:15:00Z'), now, 'it', 'Europe/Rome')).toBe("domani all'1:15");
  });

  it('says today, tomorrow and a weekday in English', () => {
    expect(describeWhen(d('2026-11-23T13:00:00Z'), d('2026-11-23T07:00:00Z'), 'en', 'Europe/Rome')).toBe('today at 2:00 PM');
    expect(describeWhen(d('2026-11-24T08:00:00Z'), now, 'en', 'Europe/Rome')).toBe('tomorrow at 9:00 AM');
    expect(describeWhen(d('2026-11-30T08:00:00Z'), d('2026-11-28T13:00:00Z'), 'en', 'Europe/Rome')).toBe('on Monday at 9:00 AM');
  });

  it('names the date when the reopening is a week or more away', () => {
    expect(describeWhen(d('2027-01-07T08:00:00Z'), d('2026-12-24T17:00:00Z'), 'it', 'Europe/Rome')).toBe('giovedì 7 gennaio alle 9:00');
    expect(describeWhen(d('2027-01-07T08:00:00Z'), d('2026-12-24T17:00:00Z'), 'en', 'Europe/Rome')).toBe('on Thursday, January 7 at 9:00 AM');
  });

  it('compares calendar days in the team time zone, not in UTC', () => {
    // 23:30 UTC on Monday is already Tuesday in Rome: opening Tuesday 09:00 is "today"
    expect(describeWhen(d('2026-11-24T08:00:00Z'), d('2026-11-23T23:30:00Z'), 'it', 'Europe/Rome')).toBe('oggi alle 9:00');
  });
});

describe('business hours in any time zone (the local date of an instant, worked out per quarter hour)', () => {
  // Zones with daylight saving at 2:00 or 3:00, at midnight (Santiago, Beirut; Asunción changed to
  // -03 for good in October 2024: no change in these years), half-hour
  // changes (Lord Howe), and offsets of :30 and :45 (St John's, Kathmandu, Chatham).
  const zones = ['Europe/Rome', 'America/New_York', 'America/Santiago', 'Asia/Beirut', 'America/Asuncion', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'];
  const weekdayIn = (zone: string) => new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' });
  /** Seven calendars, each open all of one local weekday: the one open at `at` names `at`'s weekday in the zone. */
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const oneDayEach = (zone: string) => days.map((day) => createBusinessHours({ timezone: zone, schedule: parseSchedule(`${day.toLowerCase()}=00:00-24:00`), holidays: [] }));

  /** Instants where the zone's offset changes in 2025–2027 (to the minute), found hour by hour through Intl. */
  function changes(zone: string): number[] {
    const offset = (ms: number) => {
      const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
      return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute)) - Math.floor(ms / 60_000) * 60_000;
    };
    const found: number[] = [];
    for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2028, 0, 1); t += HOUR) {
      if (offset(t) === offset(t + HOUR)) continue;
      let lo = t;
      let hi = t + HOUR;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (offset(mid) === offset(lo)) lo = mid;
        else hi = mid;
      }
      found.push(hi);
    }
    return found;
  }

  it('moves an opening the clocks skip forward by the skipped hour, east and west of Greenwich', () => {
    // 8 March 2026 in New York: 02:00 EST becomes 03:00 EDT (07:00Z). An opening at 02:30 is 03:30 EDT.
    const ny = createBusinessHours({ timezone: 'America/New_York', schedule: parseSchedule('sun=02:30-05:00'), holidays: [] });
    expect(ny.nextOpening(d('2026-03-08T05:00:00Z')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // 29 March 2026 in Rome: 02:00 CET becomes 03:00 CEST (01:00Z). An opening at 02:30 is 03:30 CEST.
    expect(rome('sun=02:30-05:00').nextOpening(d('2026-03-28T23:00:00Z')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('tells the local weekday exactly on either side of every offset change, and at random instants', () => {
    for (const zone of zones) {
      const calendars = oneDayEach(zone);
      const weekday = weekdayIn(zone);
      const instants = changes(zone).flatMap((c) => [-61, -31, -1, 0, 1, 29, 59].map((m) => c + m * 60_000).concat([c - 1000, c + 999]));
      if (!['UTC', 'Asia/Kathmandu', 'America/Asuncion'].includes(zone)) expect(instants.length).toBeGreaterThan(0);
      for (let i = 0; i < 2000; i++) instants.push(Date.UTC(2025, 0, 1) + Math.floor(((i * 7919) % 2000) / 2000 * 3 * 365 * 86_400_000) + (i % 97) * 61_000);
      const said = (ms: number) => days.filter((_, i) => calendars[i]!.isOpen(new Date(ms))).join();
      const wrong = instants.filter((ms) => said(ms) !== weekday.format(new Date(ms))).map((ms) => `${new Date(ms).toISOString()}: ${said(ms)}`);
      expect({ zone, wrong }).toEqual({ zone, wrong: [] });
    }
  });
});
