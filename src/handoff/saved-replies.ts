/**
 * @module handoff/saved-replies
 * Rendering a saved reply for one conversation (issue 21): its variables filled in, then fitted
 * to the conversation's channel as the operator's reply will be sent (signed on channels that sign
 * public replies, measured with the channel's own `measure`, X's weighted length).
 *
 * Variables: `{customer_name}` (the customer's name, else handle, else nothing), `{operator_name}`,
 * `{business_hours}` (the team's weekly hours, in the reply's language), `{reopens}` (when the team
 * opens next: "domani alle 9:00", "today at 2:00 PM"; "now"/"adesso" while open). An unknown
 * variable is left as written, so a typo shows instead of vanishing.
 */
import type { DayName, WeeklySchedule } from '../config/config.js';
import type { ChannelCapabilities } from '../core/ports.js';
import type { Language, Visibility } from '../core/types.js';
import { splitIntoThread } from '../corpus/fit.js';

/** The variables a saved reply may use. */
export const SAVED_REPLY_VARIABLES = ['customer_name', 'operator_name', 'business_hours', 'reopens'] as const;
export type SavedReplyVariable = (typeof SAVED_REPLY_VARIABLES)[number];

const WEEK: readonly DayName[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_WORDS: Record<Language, Record<DayName, string>> = {
  it: { mon: 'lun', tue: 'mar', wed: 'mer', thu: 'gio', fri: 'ven', sat: 'sab', sun: 'dom' },
  en: { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' },
};

const clock = (minutes: number): string => `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;

/** The weekly hours as people write them: "lun–ven 9:00–18:00, sab 9:00–13:00"; days with the same hours grouped. */
export function describeSchedule(schedule: WeeklySchedule, language: Language): string {
  const groups: Array<{ from: DayName; to: DayName; hours: string }> = [];
  for (const day of WEEK) {
    const intervals = schedule[day];
    if (!intervals.length) continue;
    const hours = intervals.map(([a, b]) => `${clock(a)}–${clock(b)}`).join(language === 'it' ? ' e ' : ' and ');
    const last = groups[groups.length - 1];
    if (last && last.hours === hours && WEEK.indexOf(last.to) === WEEK.indexOf(day) - 1) last.to = day;
    else groups.push({ from: day, to: day, hours });
  }
  if (!groups.length) return language === 'it' ? 'su appuntamento' : 'by appointment';
  const words = DAY_WORDS[language];
  return groups.map((g) => `${g.from === g.to ? words[g.from] : `${words[g.from]}–${words[g.to]}`} ${g.hours}`).join(', ');
}

/** Fills the variables in; spaces left before punctuation by an empty value are closed up. */
export function fillVariables(text: string, values: Record<SavedReplyVariable, string>): string {
  const filled = text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => ((SAVED_REPLY_VARIABLES as readonly string[]).includes(name) ? values[name as SavedReplyVariable] : whole));
  return filled.replace(/[ \t]+([,.;:!?])/g, '$1').replace(/[ \t]{2,}/g, ' ').trim();
}

/** How a reply fits a channel: as the channel will measure it (with the signature where it signs). */
export interface Fitting {
  /** The text to insert (variables filled in). */
  text: string;
  visibility: Visibility;
  /** Its length as the channel measures it, signature included where the channel signs. */
  length: number;
  maxLength: number;
  fits: boolean;
  /** When it does not fit: the posts a numbered thread would take (at most the channel's maxThread). */
  thread?: string[];
}

/** Measures `text` for a channel and visibility, as the operator desk would send it. */
export function fitReply(text: string, caps: ChannelCapabilities, visibility: Visibility, initials: string): Fitting {
  const signature = visibility === 'public' && caps.signsPublicReplies ? ` ^${initials}` : '';
  const maxLength = caps.maxLength[visibility];
  const length = caps.measure(text + signature);
  const fits = length <= maxLength;
  return {
    text,
    visibility,
    length,
    maxLength,
    fits,
    ...(fits ? {} : { thread: splitIntoThread(text, maxLength - caps.measure(signature), Math.max(1, caps.maxThread), caps.measure) }),
  };
}
