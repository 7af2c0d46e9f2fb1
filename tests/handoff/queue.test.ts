import { describe, expect, it } from '@jest/globals';
import { parseSchedule } from '../../src/config/config.js';
import { createFakeClock } from '../../src/core/ports.js';
import type { Conversation, EscalationReason } from '../../src/core/types.js';
import { createBusinessHours } from '../../src/handoff/business-hours.js';
import { agedPriority, basePriority, raisedPriority } from '../../src/handoff/priority.js';
import { computeQueueInfo, queueView } from '../../src/handoff/queue.js';
import { slaMs } from '../../src/handoff/sla.js';

const MIN = 60_000;
const hours = createBusinessHours({
  timezone: 'Europe/Rome',
  schedule: parseSchedule('mon-fri=09:00-18:00,sat=09:00-13:00'),
  holidays: ['2026-12-08'],
});
const config = { handoff: { slaMinutes: [15, 60, 240] } };

function conversation(id: string, reason: EscalationReason, enqueuedAt: string, extra: Partial<Conversation> = {}, vip = false): Conversation {
  return {
    id,
    key: `webchat:private:${id}`,
    channel: 'webchat',
    visibility: 'private',
    customerId: `webchat:${id}`,
    caseId: `case-${id}`,
    state: 'queued',
    missStreak: 0,
    queue: computeQueueInfo({ reason, enqueuedAt, vip }, hours, config),
    flags: [],
    createdAt: enqueuedAt,
    updatedAt: enqueuedAt,
    ...extra,
  };
}

describe('priority', () => {
  it('starts from the escalation reason, and a VIP is always most urgent', () => {
    expect(basePriority('crisis', false)).toBe(1);
    expect(basePriority('human_request', false)).toBe(2);
    expect(basePriority('low_confidence', false)).toBe(3);
    expect(basePriority('low_confidence', true)).toBe(1);
  });

  it('is raised by what a waiting customer writes: crisis or VIP to the top, anger one level, never lowered', () => {
    expect(raisedPriority(3, 'crisis', false)).toBe(1);
    expect(raisedPriority(2, 'vip', true)).toBe(1);
    expect(raisedPriority(2, 'negative_sentiment', false)).toBe(1); // a request for a person, now furious
    expect(raisedPriority(3, 'negative_sentiment', false)).toBe(2);
    expect(raisedPriority(1, 'negative_sentiment', false)).toBe(1);
    expect(raisedPriority(3, 'human_request', false)).toBe(2);
    expect(raisedPriority(2, 'human_request', false)).toBe(2); // asking again is not a raise
    expect(raisedPriority(1, 'low_confidence', false)).toBe(1);
  });

  it('rises one level for each full SLA period waited', () => {
    const sla = (p: number) => slaMs(p, config.handoff);
    expect(agedPriority(3, 239 * MIN, sla)).toBe(3);
    expect(agedPriority(3, 240 * MIN, sla)).toBe(2);
    expect(agedPriority(3, 300 * MIN, sla)).toBe(1);
    expect(agedPriority(1, 10_000 * MIN, sla)).toBe(1);
  });
});

describe('computeQueueInfo', () => {
  it('gives a crisis a 15-minute first-response SLA in business time', () => {
    const info = computeQueueInfo({ reason: 'crisis', enqueuedAt: '2026-11-23T09:00:00Z', vip: false }, hours, config);
    expect(info).toEqual({ reason: 'crisis', priority: 1, enqueuedAt: '2026-11-23T09:00:00.000Z', slaDueAt: '2026-11-23T09:15:00.000Z' });
  });

  it('stops the SLA clock over the weekend', () => {
    // Saturday 12:30 in Rome, priority 3 (240 min): 30 min on Saturday, 210 on Monday → Monday 12:30
    const info = computeQueueInfo({ reason: 'low_confidence', enqueuedAt: '2026-11-28T11:30:00Z', vip: false }, hours, config);
    expect(info.priority).toBe(3);
    expect(info.slaDueAt).toBe('2026-11-30T11:30:00.000Z');
  });

  it('stops the SLA clock on a holiday', () => {
    // Monday 7 December 17:30, priority 2 (60 min): 30 min Monday, Tuesday is a holiday, → Wednesday 09:30
    const info = computeQueueInfo({ reason: 'human_request', enqueuedAt: '2026-12-07T16:30:00Z', vip: false }, hours, config);
    expect(info.slaDueAt).toBe('2026-12-09T08:30:00.000Z');
  });

  it('counts from the next opening when escalated at night', () => {
    const info = computeQueueInfo({ reason: 'vip', enqueuedAt: '2026-11-23T22:00:00Z', vip: true }, hours, config);
    expect(info.slaDueAt).toBe('2026-11-24T08:15:00.000Z');
  });
});

describe('queueView', () => {
  it('orders waiting conversations by priority then age, and held ones after them', () => {
    const clock = createFakeClock('2026-11-23T10:00:00Z');
    const rows = queueView(
      [
        conversation('old-low', 'low_confidence', '2026-11-23T09:30:00Z'),
        conversation('held', 'crisis', '2026-11-23T09:40:00Z', { state: 'assigned', assignee: 'op-1' }),
        conversation('new-crisis', 'crisis', '2026-11-23T09:55:00Z'),
        conversation('human-1', 'human_request', '2026-11-23T09:20:00Z'),
        conversation('bot', 'human_request', '2026-11-23T09:00:00Z', { state: 'bot' }),
        conversation('human-2', 'human_request', '2026-11-23T09:50:00Z'),
      ],
      clock,
      hours,
      config,
    );
    expect(rows.map((r) => r.conversationId)).toEqual(['new-crisis', 'human-1', 'human-2', 'old-low', 'held']);
    const crisis = rows[0]!;
    expect(crisis.waitingMs).toBe(5 * MIN);
    expect(crisis.waitingBusinessMs).toBe(5 * MIN);
    expect(crisis.slaRemainingMs).toBe(10 * MIN);
    expect(crisis.breached).toBe(false);
  });

  it('flags a breached SLA with negative time remaining', () => {
    const clock = createFakeClock('2026-11-23T10:00:00Z');
    const [row] = queueView([conversation('late', 'crisis', '2026-11-23T09:30:00Z')], clock, hours, config);
    expect(row!.breached).toBe(true);
    expect(row!.slaRemainingMs).toBe(-15 * MIN);
  });

  it('does not count closed hours as waiting: a Saturday-evening message is not late on Sunday', () => {
    const clock = createFakeClock('2026-11-29T15:00:00Z'); // Sunday afternoon
    const [row] = queueView([conversation('weekend', 'human_request', '2026-11-28T17:00:00Z')], clock, hours, config);
    expect(row!.waitingMs).toBe(22 * 60 * MIN);
    expect(row!.waitingBusinessMs).toBe(0);
    expect(row!.slaRemainingMs).toBe(60 * MIN);
    expect(row!.breached).toBe(false);
    clock.set('2026-11-30T09:30:00Z'); // Monday 10:30: 90 business minutes waited
    const [monday] = queueView([conversation('weekend', 'human_request', '2026-11-28T17:00:00Z')], clock, hours, config);
    expect(monday!.breached).toBe(true);
    expect(monday!.slaRemainingMs).toBe(-30 * MIN);
  });

  it('raises the priority of a conversation that waited past its SLA', () => {
    const clock = createFakeClock('2026-11-23T14:00:00Z');
    const rows = queueView(
      [
        conversation('fresh-human', 'human_request', '2026-11-23T13:55:00Z'),
        conversation('stale-low', 'low_confidence', '2026-11-23T09:30:00Z'), // 10:30 → 15:00 in Rome: 4.5 business hours
      ],
      clock,
      hours,
      config,
    );
    expect(rows[0]!.conversationId).toBe('stale-low');
    expect(rows[0]!.basePriority).toBe(3);
    expect(rows[0]!.priority).toBe(2);
  });

  it('counts the SLA as met once the first response was sent in time', () => {
    const clock = createFakeClock('2026-11-23T12:00:00Z');
    const c = conversation('answered', 'crisis', '2026-11-23T09:00:00Z', { state: 'assigned', assignee: 'op-1' });
    c.queue = { ...c.queue!, firstResponseAt: '2026-11-23T09:10:00Z' };
    const [row] = queueView([c], clock, hours, config);
    expect(row!.responded).toBe(true);
    expect(row!.breached).toBe(false);
    expect(row!.slaRemainingMs).toBe(5 * MIN);
  });
});
