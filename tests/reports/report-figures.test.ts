/**
 * The report's rules on small hand-made histories: nearest-rank percentiles, what counts as a
 * reply (sent, in the case, not before the message), escalations recorded before reasons were
 * kept, the period's edges, CSV cells.
 */
import type { History } from '../../src/core/ports.js';
import type { Case, Conversation, OutboxItem, StoredMessage } from '../../src/core/types.js';
import { createBusinessHours } from '../../src/handoff/business-hours.js';
import { loadConfig } from '../../src/config/config.js';
import { computeReport, nearestRank, reportCsv, type ReportInput } from '../../src/reports/report.js';

const hours = createBusinessHours({ timezone: 'Europe/Rome', schedule: loadConfig({}).handoff.businessHours, holidays: [] });
const T = (hhmm: string) => `2026-11-24T${hhmm}:00.000Z`; // a Tuesday: 10:00–19:00 Z is open (09–18 Rome)

function conversation(id: string, channel = 'chat'): Conversation {
  return { id, key: `${channel}:private:${id}`, channel, visibility: 'private', customerId: `${channel}:${id}`, caseId: `case-${id}`, state: 'bot', language: 'it', missStreak: 0, flags: [], createdAt: T('10:00'), updatedAt: T('10:00') };
}
const kase = (id: string, over: Partial<Case> = {}): Case => ({ id: `case-${id}`, customerId: `chat:${id}`, status: 'open', conversationIds: [id], openedAt: T('10:00'), ...over });
const inbound = (id: string, cv: string, at: string, over: Partial<StoredMessage> = {}): StoredMessage => ({ id, conversationId: cv, caseId: `case-${cv}`, direction: 'in', author: { kind: 'customer' }, text: 'x', visibility: 'private', at, ...over });
const out = (id: string, cv: string, at: string, author: StoredMessage['author'] = { kind: 'bot' }): StoredMessage => ({ id, conversationId: cv, caseId: `case-${cv}`, direction: 'out', author, text: 'y', visibility: 'private', at });
const item = (id: string, cv: string, status: OutboxItem['status'], sentAt?: string): OutboxItem => ({ id, conversationId: cv, channel: 'chat', visibility: 'private', recipient: cv, reply: { kind: 'text', text: 'y' }, author: { kind: 'bot' }, seq: 1, status, attempts: 1, notBefore: 0, createdAt: T('10:00'), ...(sentAt ? { sentAt } : {}) });

const input = (history: History, over: Partial<ReportInput> = {}): ReportInput => ({ history, from: new Date(T('00:00')), to: new Date('2026-11-25T00:00:00Z'), now: new Date('2026-11-26T00:00:00Z'), hours, operators: [], ...over });

describe('report figures', () => {
  it('takes percentiles by nearest rank: a value that occurred, never an interpolation', () => {
    expect(nearestRank([], 50)).toBeNull();
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([4, 1, 3, 2], 50)).toBe(2);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
  });

  it('counts as replies only those sent, in the same case, not written before the message', () => {
    const history: History = {
      conversations: [conversation('a'), conversation('b'), conversation('c'), conversation('d')],
      cases: [kase('a'), kase('b'), kase('c'), kase('d')],
      messages: [
        // a: its reply was given up (dead): no reply.
        inbound('a1', 'a', T('10:00'), { action: 'answer', faqId: 'resi' }),
        out('ra', 'a', T('10:00')),
        // b: a reply from before the message does not answer it; the later one, sent 5 s after, does.
        out('rb0', 'b', T('09:00')),
        inbound('b1', 'b', T('10:00'), { action: 'answer', faqId: 'resi' }),
        out('rb1', 'b', T('10:00')),
        // c: still waiting to be sent.
        inbound('c1', 'c', T('10:00')),
        out('rc', 'c', T('10:00')),
        // d: an escalation recorded before reasons were kept, answered by an operator.
        inbound('d1', 'd', T('10:00'), { action: 'escalate' }),
        out('rd', 'd', T('10:30'), { kind: 'operator', operatorId: 'op9', name: 'Gino', initials: 'GI' }),
      ],
      replies: [item('ra', 'a', 'dead'), item('rb0', 'b', 'sent', T('09:00')), item('rb1', 'b', 'sent', '2026-11-24T10:00:05.000Z'), item('rc', 'c', 'pending'), item('rd', 'd', 'sent', T('10:30'))],
    };
    const r = computeReport(input(history));
    expect(r.inbound).toBe(4);
    expect(r.response_rate).toBe(0.5);
    expect(r.answered_by_bot).toBe(1);
    expect(r.by_faq).toEqual({ resi: { inbound: 2, answered_by_bot: 1, escalated: 0, response_rate: 0.5 } });
    expect(r.first_response_seconds.bot).toEqual({ p50: 5, p90: 5 });
    expect(r.escalation_reasons).toEqual({ unknown: 1 });
    expect(r.first_response_seconds.human).toEqual({ p50: 1800, p90: 1800 });
    // The operator is known only by the name on the message: that is the key.
    expect(Object.keys(r.by_operator)).toEqual(['Gino']);
    expect(r.sla_breaches).toBe(0);
  });

  it('names only operators in by_operator: cases the bot, the quiet-time job or the customer closed are not theirs', () => {
    const history: History = {
      conversations: ['a', 'b', 'c', 'd'].map((id) => conversation(id)),
      cases: [
        kase('a', { status: 'resolved', resolvedAt: T('11:00'), resolvedBy: 'bot' }),
        kase('b', { status: 'resolved', resolvedAt: T('11:00'), resolvedBy: 'idle' }),
        kase('c', { status: 'resolved', resolvedAt: T('11:00'), resolvedBy: 'customer' }),
        kase('d', { status: 'resolved', resolvedAt: T('11:00'), resolvedBy: 'op9' }),
      ],
      messages: ['a', 'b', 'c', 'd'].map((id) => inbound(`${id}1`, id, T('10:00'))),
      replies: [],
    };
    const r = computeReport(input(history, { operators: [{ id: 'op9', name: 'Gino', initials: 'GI', role: 'agent', passwordHash: 'x', createdAt: T('09:00') }] }));
    expect(Object.keys(r.by_operator)).toEqual(['Gino']);
  });

  it('counts a message at the period start and leaves out one at its end', () => {
    const history: History = {
      conversations: [conversation('a')],
      cases: [kase('a', { openedAt: T('00:00') })],
      messages: [inbound('first', 'a', T('00:00')), inbound('last', 'a', '2026-11-25T00:00:00.000Z')],
      replies: [],
    };
    const r = computeReport(input(history));
    expect([r.inbound, r.cases, r.response_rate]).toEqual([1, 1, 0]);
    // The local days of a UTC period in Rome: 01:00 on the 24th to 01:00 on the 25th.
    expect(Object.keys(r.by_day)).toEqual(['2026-11-24', '2026-11-25']);
  });

  it('writes empty CSV cells for figures with no value and defuses formula-like channel names', () => {
    const history: History = {
      conversations: [conversation('a', '=cmd'), conversation('b', '\t=cmd')],
      cases: [kase('a'), kase('b')],
      messages: [inbound('a1', 'a', T('10:00')), inbound('b1', 'b', T('10:00'))],
      replies: [],
    };
    const csv = reportCsv(input(history, { from: new Date('2026-11-23T23:00:00Z'), to: new Date('2026-11-24T23:00:00Z') }));
    expect(csv.split('\n')).toEqual([
      'date,channel,inbound,answered_by_bot,escalated,response_rate,first_response_bot_p50,first_response_human_p50,resolution_p50,csat_average',
      "2026-11-24,'\t=cmd,1,0,0,0,,,,",
      "2026-11-24,'=cmd,1,0,0,0,,,,",
      '',
    ]);
  });
});
