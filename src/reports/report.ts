/**
 * @module reports/report
 * The numbers the care team runs on, computed from a period's history (`Conversations.history`):
 * the store answers from its records (one indexed read on PostgreSQL, one scan of memory on the
 * embedded store) and this module aggregates, so both stores give the same figures to the
 * millisecond. Pure: no clock, no store; `now` and the team's hours are passed in.
 *
 * What is counted where (docs/reports.md says what each figure means):
 * - message figures (`inbound`, `answered_by_bot`, `response_rate`) are of customer messages
 *   written in the period;
 * - escalation figures (`escalated`, `escalation_reasons`, human first response, `sla_breaches`)
 *   are of escalations (customer messages that sent their conversation to the queue) in the period;
 * - case figures (bot first response, `resolution_seconds`, `deflection_rate`, `csat`) are of the
 *   cases opened in the period, with whatever happened to them since, up to `now`.
 * A reply counts from when the platform took it (`sentAt` of its outbox item): one never sent is
 * no reply. Percentiles are by nearest rank.
 */
import type { History } from '../core/ports.js';
import type { Case, Conversation, EscalationReason, Operator, OutboxItem, StoredMessage } from '../core/types.js';
import { addLocalDays, localDateOf, type BusinessHours } from '../handoff/business-hours.js';

/** p50 and p90 of a set of durations in seconds (null when the set is empty). */
export interface Percentiles {
  p50: number | null;
  p90: number | null;
}

/** Satisfaction: survey answers of the cases counted. */
export interface Csat {
  responses: number;
  /** Mean score, to two decimals; null without answers. */
  average: number | null;
  distribution: Record<'1' | '2' | '3' | '4' | '5', number>;
}

/** The figures of one slice (the whole period, a channel, a language, a day). */
export interface Figures {
  inbound: number;
  answered_by_bot: number;
  escalated: number;
  /** Share (0–1) of customer messages that got a reply (bot or person); null without messages. */
  response_rate: number | null;
  cases: number;
  resolved: number;
  resolved_by_bot: number;
  first_response_seconds: { bot: Percentiles; human: Percentiles };
  first_response_business_seconds: { bot: Percentiles; human: Percentiles };
  resolution_seconds: Percentiles;
  /** Cases resolved by the bot ÷ cases; null without cases. */
  deflection_rate: number | null;
  escalation_reasons: Record<string, number>;
  sla_breaches: number;
  csat: Csat;
}

/** What applies to one FAQ entry: the messages it answered. */
export interface FaqFigures {
  inbound: number;
  answered_by_bot: number;
  escalated: number;
  response_rate: number | null;
}

/** What applies to one operator. */
export interface OperatorFigures {
  /** Replies they sent (delivered) in the period. */
  replies: number;
  /** Escalations in the period they answered first. */
  first_responses: number;
  first_response_seconds: Percentiles;
  first_response_business_seconds: Percentiles;
  /** Cases opened in the period that they resolved. */
  resolved: number;
  resolution_seconds: Percentiles;
  sla_breaches: number;
  csat: Csat;
}

/** `sportello report --format json`. */
export interface Report extends Figures {
  from: string;
  to: string;
  timezone: string;
  generated_at: string;
  by_channel: Record<string, Figures>;
  by_language: Record<string, Figures>;
  by_day: Record<string, Figures>;
  by_faq: Record<string, FaqFigures>;
  by_operator: Record<string, OperatorFigures>;
}

/** A customer message of the period. */
interface InboundFact {
  channel: string;
  language: string;
  day: string;
  faqId?: string;
  answeredByBot: boolean;
  replied: boolean;
  escalated: boolean;
}

/** An escalation of the period. */
interface EscalationFact {
  channel: string;
  language: string;
  day: string;
  reason: EscalationReason | 'unknown';
  /** Seconds to the first operator reply (wall clock, business time); undefined while unanswered. */
  wait?: { seconds: number; business: number };
  operator?: string;
  breached: boolean;
}

/** A case opened in the period. */
interface CaseFact {
  channel: string;
  language: string;
  day: string;
  botFirst?: { seconds: number; business: number };
  resolution?: number;
  resolvedByBot: boolean;
  resolvedBy?: string;
  score?: number;
}

/** An operator's reply of the period. */
interface ReplyFact {
  operator: string;
}

interface Facts {
  inbound: InboundFact[];
  escalations: EscalationFact[];
  cases: CaseFact[];
  replies: ReplyFact[];
}

/** The value at rank ⌈p·n⌉ of the sorted values (nearest rank); null for none. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function percentiles(values: readonly number[]): Percentiles {
  return { p50: nearestRank(values, 50), p90: nearestRank(values, 90) };
}

/** Rounded to 4 decimals (rates) so both stores and every platform print the same. */
function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

function csatOf(scores: readonly number[]): Csat {
  const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  for (const s of scores) distribution[String(s) as keyof typeof distribution] += 1;
  const average = scores.length === 0 ? null : Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 100) / 100;
  return { responses: scores.length, average, distribution };
}

const ms = (iso: string): number => Date.parse(iso);

/** Messages of a satisfaction survey (pipeline/surveys, follow-ups): the survey, an answer, the thanks. */
const SURVEY_ACTIONS: ReadonlySet<string> = new Set(['survey', 'survey_answer', 'survey_stop']);
const isSurveyTalk = (m: StoredMessage): boolean => m.action !== undefined && SURVEY_ACTIONS.has(m.action);

/** Gathers the period's facts from its history. */
function factsOf(history: History, period: { from: Date; to: Date }, now: Date, hours: BusinessHours, operators: readonly Operator[]): Facts {
  const lo = period.from.getTime();
  const hi = period.to.getTime();
  const within = (iso: string) => {
    const t = ms(iso);
    return t >= lo && t < hi;
  };
  const tz = hours.timezone;
  const conversations = new Map<string, Conversation>(history.conversations.map((c) => [c.id, c]));
  const outbox = new Map<string, OutboxItem>(history.replies.map((r) => [r.id, r]));
  const operatorName = new Map<string, string>(operators.map((o) => [o.id, o.name]));
  const byCase = new Map<string, StoredMessage[]>();
  for (const m of history.messages) {
    let list = byCase.get(m.caseId);
    if (!list) byCase.set(m.caseId, (list = []));
    list.push(m);
    if (m.author.kind === 'operator') operatorName.set(m.author.operatorId, operatorName.get(m.author.operatorId) ?? m.author.name);
  }
  for (const list of byCase.values()) list.sort((a, b) => ms(a.at) - ms(b.at));

  /** When a reply reached the platform: its outbox item's sentAt; undefined if never sent. */
  const deliveredAt = (m: StoredMessage): number | undefined => {
    const item = outbox.get(m.id);
    if (!item) return ms(m.at); // a reply recorded without an outbox item (imported history)
    return item.status === 'sent' && item.sentAt ? ms(item.sentAt) : undefined;
  };
  // A satisfaction survey, its answer and the thanks are not care: neither customer messages nor replies.
  const isReply = (m: StoredMessage) => m.direction === 'out' && !isSurveyTalk(m);
  const channelOf = (m: StoredMessage) => conversations.get(m.conversationId)?.channel ?? 'unknown';
  const languageOf = (m: StoredMessage) => conversations.get(m.conversationId)?.language ?? 'unknown';
  const span = (from: number, to: number) => ({ seconds: (to - from) / 1000, business: hours.businessMsBetween(new Date(from), new Date(to)) / 1000 });
  /** The first delivered reply of a case at or after `at` whose author passes `who`. */
  const firstReply = (caseId: string, at: number, who: (m: StoredMessage) => boolean) => {
    let best: { m: StoredMessage; t: number } | undefined;
    for (const m of byCase.get(caseId) ?? []) {
      if (!isReply(m) || ms(m.at) < at || !who(m)) continue;
      const t = deliveredAt(m);
      if (t !== undefined && (!best || t < best.t)) best = { m, t };
    }
    return best;
  };
  const byBot = (m: StoredMessage) => m.author.kind === 'bot';
  const byOperator = (m: StoredMessage) => m.author.kind === 'operator';

  const facts: Facts = { inbound: [], escalations: [], cases: [], replies: [] };
  for (const m of history.messages) {
    if (!within(m.at)) continue;
    const day = localDateOf(new Date(m.at), tz);
    if (m.direction === 'out' && m.author.kind === 'operator' && deliveredAt(m) !== undefined) {
      facts.replies.push({ operator: operatorName.get(m.author.operatorId) ?? m.author.name });
    }
    if (m.direction !== 'in' || isSurveyTalk(m)) continue;
    const at = ms(m.at);
    const channel = channelOf(m);
    const language = languageOf(m);
    const replied = firstReply(m.caseId, at, () => true) !== undefined;
    const escalation = m.escalation ?? (m.action === 'escalate' ? { reason: 'unknown' as const, priority: 0 } : undefined);
    facts.inbound.push({
      channel,
      language,
      day,
      ...(m.faqId ? { faqId: m.faqId } : {}),
      answeredByBot: m.action === 'answer' && firstReply(m.caseId, at, byBot) !== undefined,
      replied,
      escalated: escalation !== undefined,
    });
    if (escalation) {
      const first = firstReply(m.caseId, at, byOperator);
      const due = 'slaDueAt' in escalation && escalation.slaDueAt ? ms(escalation.slaDueAt) : undefined;
      const author = first?.m.author;
      facts.escalations.push({
        channel,
        language,
        day,
        reason: escalation.reason,
        ...(first ? { wait: span(at, first.t) } : {}),
        ...(author?.kind === 'operator' ? { operator: operatorName.get(author.operatorId) ?? author.name } : {}),
        breached: due !== undefined && (first?.t ?? now.getTime()) > due,
      });
    }
  }

  for (const kase of history.cases) {
    if (!within(kase.openedAt)) continue;
    const messages = byCase.get(kase.id) ?? [];
    const opener = messages.find((m) => m.direction === 'in');
    const start = opener ? ms(opener.at) : ms(kase.openedAt);
    const bot = firstReply(kase.id, start, byBot);
    const resolvedBy = resolverName(kase, operatorName);
    facts.cases.push({
      channel: opener ? channelOf(opener) : channelOfCase(kase, conversations),
      language: opener ? languageOf(opener) : 'unknown',
      day: localDateOf(new Date(kase.openedAt), tz),
      ...(bot ? { botFirst: span(start, bot.t) } : {}),
      // A case an erasure closed (the customer's data went, the team resolved nothing) is a case, not a resolution.
      ...(kase.status === 'resolved' && kase.resolvedAt && kase.resolvedBy !== 'erased' ? { resolution: (ms(kase.resolvedAt) - ms(kase.openedAt)) / 1000 } : {}),
      resolvedByBot: kase.status === 'resolved' && kase.resolvedBy === 'bot',
      ...(resolvedBy ? { resolvedBy } : {}),
      ...(kase.survey?.score !== undefined ? { score: kase.survey.score } : {}),
    });
  }
  return facts;
}

// `erased`: closed by a customer's erasure (handoff/customer-rights.ts), by no operator.
const NOT_OPERATORS = new Set(['bot', 'idle', 'customer', 'erased']);

function resolverName(kase: Case, names: ReadonlyMap<string, string>): string | undefined {
  // `bot`, `idle` (closed by the bot-close job: docs/reports.md) and `customer` (who said it was
  // sorted) are not operators.
  if (kase.status !== 'resolved' || !kase.resolvedBy || NOT_OPERATORS.has(kase.resolvedBy)) return undefined;
  return names.get(kase.resolvedBy) ?? kase.resolvedBy;
}

function channelOfCase(kase: Case, conversations: ReadonlyMap<string, Conversation>): string {
  for (const id of kase.conversationIds) {
    const c = conversations.get(id);
    if (c) return c.channel;
  }
  return 'unknown';
}

/** The figures of a set of facts. */
function figuresOf(facts: Facts): Figures {
  const reasons: Record<string, number> = {};
  for (const e of facts.escalations) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
  const answered = facts.escalations.flatMap((e) => (e.wait ? [e.wait] : []));
  const bot = facts.cases.flatMap((c) => (c.botFirst ? [c.botFirst] : []));
  const resolved = facts.cases.filter((c) => c.resolution !== undefined);
  const byBot = facts.cases.filter((c) => c.resolvedByBot).length;
  return {
    inbound: facts.inbound.length,
    answered_by_bot: facts.inbound.filter((m) => m.answeredByBot).length,
    escalated: facts.escalations.length,
    response_rate: rate(facts.inbound.filter((m) => m.replied).length, facts.inbound.length),
    cases: facts.cases.length,
    resolved: resolved.length,
    resolved_by_bot: byBot,
    first_response_seconds: { bot: percentiles(bot.map((s) => s.seconds)), human: percentiles(answered.map((s) => s.seconds)) },
    first_response_business_seconds: { bot: percentiles(bot.map((s) => s.business)), human: percentiles(answered.map((s) => s.business)) },
    resolution_seconds: percentiles(resolved.map((c) => c.resolution!)),
    deflection_rate: rate(byBot, facts.cases.length),
    escalation_reasons: sortedKeys(reasons),
    sla_breaches: facts.escalations.filter((e) => e.breached).length,
    csat: csatOf(facts.cases.flatMap((c) => (c.score !== undefined ? [c.score] : []))),
  };
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Facts grouped by a key of each kind of fact (undefined: not in any group). */
function groupBy(facts: Facts, key: { inbound?: (f: InboundFact) => string | undefined; escalation?: (f: EscalationFact) => string | undefined; case?: (f: CaseFact) => string | undefined; reply?: (f: ReplyFact) => string | undefined }): Map<string, Facts> {
  const groups = new Map<string, Facts>();
  const group = (k: string | undefined) => {
    if (k === undefined) return undefined;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { inbound: [], escalations: [], cases: [], replies: [] }));
    return g;
  };
  for (const f of facts.inbound) group(key.inbound?.(f))?.inbound.push(f);
  for (const f of facts.escalations) group(key.escalation?.(f))?.escalations.push(f);
  for (const f of facts.cases) group(key.case?.(f))?.cases.push(f);
  for (const f of facts.replies) group(key.reply?.(f))?.replies.push(f);
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function mapValues<T>(groups: Map<string, Facts>, fn: (f: Facts) => T): Record<string, T> {
  return Object.fromEntries([...groups].map(([k, f]) => [k, fn(f)]));
}

/** What the report needs besides the history. */
export interface ReportInput {
  history: History;
  from: Date;
  to: Date;
  now: Date;
  hours: BusinessHours;
  operators: readonly Operator[];
}

/** The report of a period. */
export function computeReport(input: ReportInput): Report {
  const { from, to, now, hours } = input;
  const facts = factsOf(input.history, { from, to }, now, hours, input.operators);
  const same = { inbound: (f: { channel: string }) => f.channel, escalation: (f: { channel: string }) => f.channel, case: (f: { channel: string }) => f.channel };
  const byLanguage = { inbound: (f: InboundFact) => f.language, escalation: (f: EscalationFact) => f.language, case: (f: CaseFact) => f.language };
  const byDay = { inbound: (f: InboundFact) => f.day, escalation: (f: EscalationFact) => f.day, case: (f: CaseFact) => f.day };
  const days: Record<string, Figures> = {};
  const grouped = groupBy(facts, byDay);
  // Every day of the period, empty ones too (charts and spreadsheets want a regular axis).
  for (let day = localDateOf(from, hours.timezone); days[day] === undefined && day <= localDateOf(new Date(to.getTime() - 1), hours.timezone); day = addLocalDays(day, 1)) {
    days[day] = figuresOf(grouped.get(day) ?? { inbound: [], escalations: [], cases: [], replies: [] });
  }
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    timezone: hours.timezone,
    generated_at: now.toISOString(),
    ...figuresOf(facts),
    by_channel: mapValues(groupBy(facts, same), figuresOf),
    by_language: mapValues(groupBy(facts, byLanguage), figuresOf),
    by_day: days,
    by_faq: mapValues(groupBy(facts, { inbound: (f) => f.faqId }), (f) => {
      const all = figuresOf(f);
      return { inbound: all.inbound, answered_by_bot: all.answered_by_bot, escalated: f.inbound.filter((m) => m.escalated).length, response_rate: all.response_rate };
    }),
    by_operator: mapValues(groupBy(facts, { escalation: (f) => f.operator, case: (f) => f.resolvedBy, reply: (f) => f.operator }), (f) => {
      const answered = f.escalations.flatMap((e) => (e.wait ? [e.wait] : []));
      const resolved = f.cases.filter((c) => c.resolution !== undefined);
      return {
        replies: f.replies.length,
        first_responses: answered.length,
        first_response_seconds: percentiles(answered.map((s) => s.seconds)),
        first_response_business_seconds: percentiles(answered.map((s) => s.business)),
        resolved: resolved.length,
        resolution_seconds: percentiles(resolved.map((c) => c.resolution!)),
        sla_breaches: f.escalations.filter((e) => e.breached).length,
        csat: csatOf(f.cases.flatMap((c) => (c.score !== undefined ? [c.score] : []))),
      };
    }),
  };
}

/** The CSV columns, as the issue names them. */
export const CSV_COLUMNS = [
  'date',
  'channel',
  'inbound',
  'answered_by_bot',
  'escalated',
  'response_rate',
  'first_response_bot_p50',
  'first_response_human_p50',
  'resolution_p50',
  'csat_average',
] as const;

/**
 * The report as CSV: a header, then one row per day (the team's dates) and channel seen in the
 * period; empty cells where a figure has no value. Needs the facts, so it takes the same input.
 */
export function reportCsv(input: ReportInput): string {
  const facts = factsOf(input.history, { from: input.from, to: input.to }, input.now, input.hours, input.operators);
  const key = (f: { day: string; channel: string }) => `${f.day}\u0000${f.channel}`;
  const groups = groupBy(facts, { inbound: key, escalation: key, case: key });
  const channels = [...new Set([...groups.keys()].map((k) => k.split('\u0000')[1]!))].sort();
  const report = computeReport(input);
  const rows: string[] = [CSV_COLUMNS.join(',')];
  const cell = (v: number | null) => (v === null ? '' : String(v));
  for (const day of Object.keys(report.by_day)) {
    for (const channel of channels) {
      const f = figuresOf(groups.get(`${day}\u0000${channel}`) ?? { inbound: [], escalations: [], cases: [], replies: [] });
      rows.push(
        [
          day,
          csvText(channel),
          f.inbound,
          f.answered_by_bot,
          f.escalated,
          cell(f.response_rate),
          cell(f.first_response_seconds.bot.p50),
          cell(f.first_response_seconds.human.p50),
          cell(f.resolution_seconds.p50),
          cell(f.csat.average),
        ].join(','),
      );
    }
  }
  return `${rows.join('\n')}\n`;
}

/**
 * A CSV field: quoted when it holds a comma, quote or line break; a leading = + - @ (or a tab or
 * carriage return, which some spreadsheets skip before reading a formula) is defused with a '.
 */
function csvText(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The part of a history on one channel: its conversations, their messages and replies, and the cases they belong to. */
export function historyOfChannel(history: History, channel: string): History {
  const conversations = history.conversations.filter((c) => c.channel === channel);
  const ids = new Set(conversations.map((c) => c.id));
  const messages = history.messages.filter((m) => ids.has(m.conversationId));
  const caseIds = new Set(messages.map((m) => m.caseId));
  return {
    conversations,
    messages,
    cases: history.cases.filter((c) => caseIds.has(c.id) || c.conversationIds.some((id) => ids.has(id))),
    replies: history.replies.filter((r) => ids.has(r.conversationId)),
  };
}
