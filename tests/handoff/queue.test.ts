import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseSchedule } from '../../src/config/config.js';
import { createFakeClock, type ConversationFilter, type Store } from '../../src/core/ports.js';
import type { Conversation, EscalationReason } from '../../src/core/types.js';
import { createBusinessHours } from '../../src/handoff/business-hours.js';
import { agedPriority, basePriority, raisedPriority } from '../../src/handoff/priority.js';
import { computeQueueInfo, createQueueStatus, queueView } from '../../src/handoff/queue.js';
import { slaMs } from '../../src/handoff/sla.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';

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

describe('createQueueStatus (against the embedded store)', () => {
  const cleanups = cleanupsAfterEach();
  const nowAt = '2026-12-09T10:00:00+01:00';

  async function openStore() {
    const dir = await mkdtemp(join(tmpdir(), 'queue-status-'));
    const store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
    cleanups.push(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    // Reads counted, passed through to the real store.
    const reads: ConversationFilter[] = [];
    const counted = { conversations: { ...store.conversations, list: (f: ConversationFilter) => (reads.push(f), store.conversations.list(f)) } };
    return { store, reads, counted: counted as Pick<Store, 'conversations'> };
  }
  const write = (store: { conversations: Pick<Store['conversations'], 'commit'> }, c: Conversation) =>
    store.conversations.commit({ expect: { conversations: {}, cases: {} }, conversations: [c], messages: [], outbox: [], events: [] });

  it('tells a burst of escalations their places in turn, reading the queue once for the whole burst', async () => {
    const { store, reads, counted } = await openStore();
    for (const id of ['a', 'b', 'c']) await write(store, conversation(id, 'low_confidence', '2026-12-09T09:0' + 'abc'.indexOf(id) + ':00+01:00'));
    const clock = createFakeClock(new Date(nowAt));
    const status = createQueueStatus(counted, clock, hours, config);
    // Not yet written: escalated in this burst, one after the other.
    const burst = ['d', 'e', 'f'].map((id, i) => conversation(id, 'low_confidence', `2026-12-09T09:5${i}:00+01:00`));
    const places = [];
    for (const c of burst) places.push((await status(c)).position);
    expect(places).toEqual([4, 5, 6]);
    // A more urgent one goes before all of them; one not queued counts after everyone.
    expect((await status(conversation('g', 'crisis', '2026-12-09T09:59:00+01:00'))).position).toBe(1);
    expect((await status({ ...conversation('h', 'low_confidence', nowAt), state: 'bot' })).position).toBe(8);
    // The one asked about is taken as it is now (a waiting one asking again keeps its place).
    expect((await status(burst[0]!)).position).toBe(5);
    expect(reads.filter((f) => f.states?.includes('queued'))).toHaveLength(1);
    expect(reads.filter((f) => f.states?.includes('resolved'))).toHaveLength(1);
  });

  it('reads the queue again once the clock has moved on, and the typical wait from answered escalations', async () => {
    const { store, reads, counted } = await openStore();
    const clock = createFakeClock(new Date(nowAt));
    const status = createQueueStatus(counted, clock, hours, config);
    expect(await status(conversation('a', 'low_confidence', nowAt))).toEqual({ position: 1 });
    // Meanwhile, three escalations were answered (in 10, 20 and 40 business minutes) and one more waits.
    for (const [id, minutes] of [['r1', 10], ['r2', 20], ['r3', 40]] as const) {
      const c = conversation(id, 'low_confidence', '2026-12-09T09:00:00+01:00');
      await write(store, { ...c, state: 'resolved', queue: { ...c.queue!, firstResponseAt: new Date(Date.parse('2026-12-09T09:00:00+01:00') + minutes * MIN).toISOString() } });
    }
    await write(store, conversation('w', 'human_request', '2026-12-09T09:30:00+01:00'));
    expect((await status(conversation('a', 'low_confidence', nowAt))).position).toBe(1);
    clock.advance(2_000);
    expect((await status(conversation('a', 'low_confidence', nowAt))).position).toBe(2);
    expect(reads.filter((f) => f.states?.includes('queued'))).toHaveLength(2);
    clock.advance(60_000);
    expect(await status(conversation('a', 'low_confidence', nowAt))).toEqual({ position: 2, typicalWaitMinutes: 20 });
  });
});
