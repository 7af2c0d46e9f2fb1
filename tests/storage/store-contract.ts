/**
 * The one contract every Store implementation keeps (docs/storage.md). Run by
 * lowdb.test.ts and postgres.test.ts against the real stores.
 */
import { AlreadyProcessedError, ConflictError, StoreError, TurnConflictError } from '../../src/core/errors.js';
import { emptyRevisions, type ConversationQuery, type Revisions, type Store, type TurnRecord } from '../../src/core/ports.js';
import type {
  Case,
  Conversation,
  Customer,
  EventDelivery,
  FaqSuggestion,
  HeardRecord,
  InboundMessage,
  Operator,
  OutboxItem,
  SavedReply,
  StoredMessage,
} from '../../src/core/types.js';
import type { StoreSnapshot } from '../../src/storage/snapshot.js';

/** A store that can also export and import itself (both implementations are). */
export type SnapshotStore = Store & {
  exportAll(): Promise<StoreSnapshot>;
  importAll(snapshot: StoreSnapshot): Promise<void>;
};

/** How the contract gets stores from one implementation. */
export interface StoreHarness {
  /** A new, empty, initialised store. */
  fresh(): Promise<SnapshotStore>;
  /** Closes `store` and opens its data again in a new instance. */
  reopen(store: SnapshotStore): Promise<SnapshotStore>;
}

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const iso = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

/** Builders for domain objects with sensible defaults. */
export function makeCustomer(id = 'test:u1', over: Partial<Customer> = {}): Customer {
  const [channel = 'test', platformId = 'u1'] = id.split(':');
  return { id, channel, platformId, handle: 'anna', firstSeenAt: iso(0), lastSeenAt: iso(0), ...over };
}

export function makeConversation(id: string, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    key: `test:private:${id}`,
    channel: 'test',
    visibility: 'private',
    customerId: 'test:u1',
    caseId: 'case1',
    state: 'bot',
    missStreak: 0,
    flags: [],
    createdAt: iso(0),
    updatedAt: iso(0),
    ...over,
  };
}

export function makeCase(id: string, over: Partial<Case> = {}): Case {
  return { id, customerId: 'test:u1', status: 'open', conversationIds: [], openedAt: iso(0), ...over };
}

export function makeMessage(id: string, over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id,
    conversationId: 'cv1',
    caseId: 'case1',
    direction: 'in',
    author: { kind: 'customer' },
    text: `message ${id}`,
    visibility: 'private',
    at: iso(0),
    ...over,
  };
}

export function makeOutbox(id: string, over: Partial<Omit<OutboxItem, 'seq'>> = {}): Omit<OutboxItem, 'seq'> {
  return {
    id,
    conversationId: 'cv1',
    channel: 'test',
    visibility: 'private',
    recipient: 'u1',
    reply: { kind: 'text', text: `reply ${id}` },
    author: { kind: 'bot' },
    status: 'pending',
    attempts: 0,
    notBefore: 0,
    createdAt: iso(0),
    ...over,
  };
}

export function makeInbound(id: string, over: Partial<InboundMessage> = {}): InboundMessage {
  return {
    channel: 'test',
    id,
    visibility: 'private',
    customer: { platformId: 'u1', handle: 'anna' },
    text: `ciao ${id}`,
    sentAt: iso(0),
    ...over,
  };
}

export function makeOperator(id: string, name: string): Operator {
  return { id, name, initials: name.slice(0, 2).toUpperCase(), role: 'agent', passwordHash: 'scrypt$x$y', createdAt: iso(0) };
}

export function makeSuggestion(id: string, over: Partial<FaqSuggestion> = {}): FaqSuggestion {
  return {
    id,
    caseId: 'case1',
    kind: 'new_entry',
    locale: 'it',
    questions: ['Posso pagare con PayPal?'],
    answer: 'Sì.',
    status: 'pending',
    createdAt: iso(0),
    createdBy: 'op1',
    ...over,
  };
}

export function makeDelivery(id: string, over: Partial<EventDelivery> = {}): EventDelivery {
  return {
    id,
    subscription: 'crm',
    orderKey: 'crm/cv1',
    type: 'message.created',
    payload: { type: 'message.created', version: 1, timestamp: iso(0), data: { n: id } },
    status: 'pending',
    attempts: 0,
    notBefore: 0,
    createdAt: iso(0),
    ...over,
  };
}

/** A turn with nothing in it but what `over` adds (it read nothing: `expect` is empty). */
export function makeHeard(platformId: string, over: Partial<HeardRecord> = {}): HeardRecord {
  return {
    id: `test:${platformId}`,
    channel: 'test',
    platformId,
    at: iso(0),
    kind: 'post',
    author: { id: 'a1', handle: 'anna', followers: 120 },
    text: 'la app è bloccata',
    language: 'it',
    sentiment: -0.4,
    class: 'noise',
    ...over,
  };
}

export function makeTurn(over: Partial<TurnRecord> = {}): TurnRecord {
  return { expect: emptyRevisions(), conversations: [], messages: [], outbox: [], events: [], ...over };
}

/** Accepts a message and waits until it is durable; resolves with `fresh`. */
export async function accepted(store: Store, msg: InboundMessage): Promise<boolean> {
  const { fresh, durable } = await store.inbox.accept(msg);
  await durable;
  return fresh;
}

/**
 * The revisions a turn reads of these stored conversations (and their cases): what it passes as
 * `expect` to write them again.
 */
export async function revisionsOf(store: Store, conversations: ReadonlyArray<{ key: string; customerId: string }>): Promise<Revisions> {
  const all = emptyRevisions();
  for (const c of conversations) {
    const { revisions } = await store.conversations.loadContext({ key: c.key, customerId: c.customerId });
    Object.assign(all.conversations, revisions.conversations);
    Object.assign(all.cases, revisions.cases);
  }
  return all;
}

/**
 * A message seen before is processed once: the store says it is not fresh, or (a store that
 * tells at commit) refuses the turn that would process it again, writing nothing.
 */
export async function expectSeen(store: Store, msg: InboundMessage): Promise<void> {
  if (!(await accepted(store, msg))) return;
  await expect(store.conversations.commit(makeTurn({ inbound: { channel: msg.channel, id: msg.id }, outbox: [makeOutbox(`again-${msg.id}`)] }))).rejects.toBeInstanceOf(AlreadyProcessedError);
  expect(await store.outbox.get(`again-${msg.id}`)).toBeUndefined();
}

/** Registers the shared contract tests for one implementation. */
export function describeStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name}: the Store contract`, () => {
    let store: SnapshotStore;
    beforeEach(async () => {
      store = await harness.fresh();
    });
    afterEach(async () => {
      await store.close();
    });

    /** Imports `snapshot` into a fresh store twice (the second adds nothing), hands it to `check`, then closes it. */
    async function importedTwice(snapshot: StoreSnapshot, check: (target: SnapshotStore) => Promise<void>): Promise<void> {
      const target = await harness.fresh();
      try {
        await target.importAll(snapshot);
        await target.importAll(snapshot);
        await check(target);
      } finally {
        await target.close();
      }
    }

    describe('inbound messages', () => {
      it('accepts a message once and processes the same channel and id once', async () => {
        expect(await accepted(store, makeInbound('m1'))).toBe(true);
        await accepted(store, makeInbound('m1', { text: 'changed' }));
        expect(await accepted(store, makeInbound('m1', { channel: 'other' }))).toBe(true);
        await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' } }));
        await expectSeen(store, makeInbound('m1'));
        expect((await store.inbox.pending(10)).map((m) => `${m.channel}/${m.id}/${m.text}`)).toEqual(['other/m1/ciao m1']);
      });

      it('accepts a message delivered twice at the same moment exactly once', async () => {
        const results = await Promise.all([makeInbound('m1'), makeInbound('m1'), makeInbound('m2'), makeInbound('m1', { channel: 'other' })].map((m) => accepted(store, m)));
        expect(results).toEqual([true, false, true, true]);
        expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m1', 'm2', 'm1']);
      });

      it('lists accepted messages not yet processed, oldest first, exactly as given', async () => {
        const first = makeInbound('m1', { ref: { conversation: { id: 'bf-1' } }, payload: 'faq:orari', threadId: 't1', inReplyTo: 'x0' });
        await accepted(store, first);
        await accepted(store, makeInbound('m2'));
        await accepted(store, makeInbound('m3'));
        const pending = await store.inbox.pending(10);
        expect(pending.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
        expect(pending[0]).toEqual(first);
        expect((await store.inbox.pending(2)).map((m) => m.id)).toEqual(['m1', 'm2']);
      });

      it('stops listing a message once a committed turn names it, and still refuses it', async () => {
        await accepted(store, makeInbound('m1'));
        await accepted(store, makeInbound('m2'));
        await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' } }));
        expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m2']);
        await expectSeen(store, makeInbound('m1'));
      });

      it('refuses a second turn for a message already processed, writing nothing of it', async () => {
        await accepted(store, makeInbound('m1'));
        await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' } }));
        const second = makeTurn({ inbound: { channel: 'test', id: 'm1' }, messages: [makeMessage('dup-msg')], outbox: [makeOutbox('dup-out')] });
        await expect(store.conversations.commit(second)).rejects.toBeInstanceOf(AlreadyProcessedError);
        expect(await store.outbox.get('dup-out')).toBeUndefined();
      });

      it('lets exactly one of two concurrent turns for the same message win', async () => {
        await accepted(store, makeInbound('race'));
        const results = await Promise.allSettled([
          store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'race' }, outbox: [makeOutbox('race-a')] })),
          store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'race' }, outbox: [makeOutbox('race-b')] })),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const written = [await store.outbox.get('race-a'), await store.outbox.get('race-b')].filter(Boolean);
        expect(written).toHaveLength(1);
      });

      it('remembers a message processed by a turn even when it was never accepted', async () => {
        await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'late' } }));
        await expectSeen(store, makeInbound('late'));
        expect(await store.inbox.pending(10)).toEqual([]);
      });
    });

    describe('committing a turn', () => {
      it('writes the customer, conversations, case, messages and outbox of a turn', async () => {
        const customer = makeCustomer();
        const conversation = makeConversation('cv1');
        const theCase = makeCase('case1', { conversationIds: ['cv1'] });
        await accepted(store, makeInbound('m1'));
        await store.conversations.commit(
          makeTurn({
            inbound: { channel: 'test', id: 'm1' },
            customer,
            conversations: [conversation],
            case: theCase,
            messages: [makeMessage('msg1'), makeMessage('msg2', { direction: 'out', author: { kind: 'bot' } })],
            outbox: [makeOutbox('o1')],
          }),
        );
        expect(await store.directory.getCustomer('test:u1')).toEqual(customer);
        expect(await store.conversations.get('cv1')).toEqual(conversation);
        expect(await store.conversations.findByKey('test:private:cv1')).toEqual(conversation);
        expect(await store.conversations.getCase('case1')).toEqual(theCase);
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => m.id)).toEqual(['msg1', 'msg2']);
        expect(await store.outbox.get('o1')).toEqual({ ...makeOutbox('o1'), seq: 1 });
        expect(await store.inbox.pending(10)).toEqual([]);
      });

      it('numbers outbox items 1, 2, 3 per conversation in insertion order', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('a2')] }));
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('b1', { conversationId: 'cv2' }), makeOutbox('a3')] }));
        const seqs = (await store.outbox.list({ conversationId: 'cv1' })).map((o) => [o.id, o.seq]);
        expect(seqs).toEqual([['a1', 1], ['a2', 2], ['a3', 3]]);
        expect((await store.outbox.get('b1'))?.seq).toBe(1);
      });

      it('updates conversations, cases and customers by id and appends messages', async () => {
        await store.conversations.commit(makeTurn({ customer: makeCustomer(), conversations: [makeConversation('cv1')], case: makeCase('case1'), messages: [makeMessage('msg1')] }));
        await store.conversations.commit(
          makeTurn({
            expect: await revisionsOf(store, [makeConversation('cv1')]),
            customer: makeCustomer('test:u1', { lastSeenAt: iso(5000), name: 'Anna' }),
            conversations: [makeConversation('cv1', { state: 'queued', missStreak: 2, updatedAt: iso(5000) })],
            case: makeCase('case1', { conversationIds: ['cv1', 'cv2'] }),
            messages: [makeMessage('msg2', { at: iso(5000) })],
          }),
        );
        expect((await store.directory.getCustomer('test:u1'))?.name).toBe('Anna');
        expect(await store.conversations.get('cv1')).toMatchObject({ state: 'queued', missStreak: 2 });
        expect((await store.conversations.list({})).length).toBe(1);
        expect((await store.conversations.getCase('case1'))?.conversationIds).toEqual(['cv1', 'cv2']);
        expect((await store.conversations.listMessages({ caseId: 'case1' })).map((m) => m.id)).toEqual(['msg1', 'msg2']);
      });

      it('writes nothing of a turn that fails (a conversation key already taken)', async () => {
        await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1')] }));
        await accepted(store, makeInbound('m9'));
        const bad = makeTurn({
          inbound: { channel: 'test', id: 'm9' },
          customer: makeCustomer('test:u9'),
          conversations: [makeConversation('cv9', { key: 'test:private:cv1' })],
          case: makeCase('case9'),
          messages: [makeMessage('msg9', { conversationId: 'cv9' })],
          outbox: [makeOutbox('o9', { conversationId: 'cv9' })],
        });
        await expect(store.conversations.commit(bad)).rejects.toThrow();
        expect(await store.directory.getCustomer('test:u9')).toBeUndefined();
        expect(await store.conversations.get('cv9')).toBeUndefined();
        expect(await store.conversations.getCase('case9')).toBeUndefined();
        expect(await store.conversations.listMessages({ conversationId: 'cv9' })).toEqual([]);
        expect(await store.outbox.get('o9')).toBeUndefined();
        expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m9']);
      });

      it('writes nothing of a turn whose outbox item id already exists', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o1')] }));
        await expect(
          store.conversations.commit(makeTurn({ customer: makeCustomer('test:u7'), messages: [makeMessage('msg7')], outbox: [makeOutbox('o1')] })),
        ).rejects.toThrow();
        expect(await store.directory.getCustomer('test:u7')).toBeUndefined();
        expect(await store.conversations.listMessages({ conversationId: 'cv1' })).toEqual([]);
        expect((await store.outbox.list({})).length).toBe(1);
      });

      it('loses nothing when 200 turns of one conversation are committed at once', async () => {
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            store.conversations.commit(makeTurn({ messages: [makeMessage(`msg${i}`, { at: iso(i) })], outbox: [makeOutbox(`o${i}`)] })),
          ),
        );
        store = await harness.reopen(store);
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).length).toBe(200);
        const seqs = (await store.outbox.list({ conversationId: 'cv1' })).map((o) => o.seq).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      });

      it('keeps what was written after the store is closed and opened again', async () => {
        await accepted(store, makeInbound('m1'));
        await accepted(store, makeInbound('m2'));
        await store.conversations.commit(
          makeTurn({
            inbound: { channel: 'test', id: 'm1' },
            customer: makeCustomer(),
            conversations: [makeConversation('cv1')],
            case: makeCase('case1'),
            messages: [makeMessage('msg1')],
            outbox: [makeOutbox('o1')],
          }),
        );
        await store.directory.addOperator(makeOperator('op1', 'Marta'));
        await store.suggestions.add(makeSuggestion('s1'));
        await store.values.set('twitter', 'since_id', '1790000000000000000');
        store = await harness.reopen(store);
        expect(await store.conversations.get('cv1')).toEqual(makeConversation('cv1'));
        expect(await store.directory.getCustomer('test:u1')).toEqual(makeCustomer());
        expect(await store.conversations.getCase('case1')).toEqual(makeCase('case1'));
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).length).toBe(1);
        expect((await store.outbox.get('o1'))?.seq).toBe(1);
        expect(await store.directory.findOperatorByName('Marta')).toEqual(makeOperator('op1', 'Marta'));
        expect((await store.suggestions.list()).map((s) => s.id)).toEqual(['s1']);
        expect(await store.values.get('twitter', 'since_id')).toBe('1790000000000000000');
        await expectSeen(store, makeInbound('m1'));
        expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m2']);
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o2')] }));
        expect((await store.outbox.get('o2'))?.seq).toBe(2);
      });

      it('is not changed by changing what was written, after writing it (it kept a copy, or froze the records)', async () => {
        const conversation = makeConversation('cv1');
        const msg = makeInbound('m-own');
        await accepted(store, msg);
        const turn = makeTurn({ conversations: [conversation], outbox: [makeOutbox('o-own')] });
        await store.conversations.commit(turn);
        // A store that keeps the caller's records freezes them: the change throws a TypeError.
        const tamper = (change: () => void) => {
          try {
            change();
          } catch (err) {
            expect(err).toBeInstanceOf(TypeError);
          }
        };
        tamper(() => conversation.flags.push('tampered'));
        tamper(() => (conversation.state = 'resolved'));
        tamper(() => ((turn.outbox[0]!.reply as { text: string }).text = 'changed'));
        tamper(() => (msg.text = 'changed'));
        expect(await store.conversations.get('cv1')).toEqual(makeConversation('cv1'));
        expect((await store.outbox.get('o-own'))?.reply.text).toBe('reply o-own');
        expect((await store.inbox.pending(10)).find((m) => m.id === 'm-own')?.text).not.toBe('changed');
      });

      it('hands out copies: changing a returned object does not change the store', async () => {
        await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1')] }));
        const got = await store.conversations.get('cv1');
        got!.flags.push('tampered');
        got!.state = 'resolved';
        expect(await store.conversations.get('cv1')).toEqual(makeConversation('cv1'));
      });
    });

    describe('reading conversations, cases and messages', () => {
      it('lists messages by time, then in insertion order for equal times', async () => {
        await store.conversations.commit(makeTurn({ messages: [makeMessage('late', { at: iso(2000) }), makeMessage('tie-a', { at: iso(1000) })] }));
        await store.conversations.commit(makeTurn({ messages: [makeMessage('tie-b', { at: iso(1000) }), makeMessage('early', { at: iso(0) })] }));
        await store.conversations.commit(makeTurn({ messages: [makeMessage('other', { conversationId: 'cv2', caseId: 'case2' })] }));
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => m.id)).toEqual(['early', 'tie-a', 'tie-b', 'late']);
        expect((await store.conversations.listMessages({ caseId: 'case2' })).map((m) => m.id)).toEqual(['other']);
      });

      it('compares times as instants, whatever their ISO spelling', async () => {
        await store.conversations.commit(
          makeTurn({
            messages: [
              makeMessage('half-past', { at: '2026-03-02T09:30:00Z' }),
              makeMessage('nine-rome', { at: '2026-03-02T10:00:00+01:00' }),
              makeMessage('quarter-past', { at: '2026-03-02T09:15:00.000Z' }),
            ],
          }),
        );
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => m.id)).toEqual(['nine-rome', 'quarter-past', 'half-past']);
      });

      it('filters conversations by state, case, customer and assignee, newest update first, with a limit', async () => {
        await store.conversations.commit(
          makeTurn({
            conversations: [
              makeConversation('a', { state: 'queued', updatedAt: iso(1000) }),
              makeConversation('b', { state: 'assigned', assignee: 'op1', updatedAt: iso(3000) }),
              makeConversation('c', { state: 'queued', updatedAt: iso(2000), customerId: 'test:u2', caseId: 'case2' }),
              makeConversation('d', { state: 'bot', updatedAt: iso(4000) }),
            ],
          }),
        );
        const ids = async (filter: Parameters<Store['conversations']['list']>[0]) => (await store.conversations.list(filter)).map((c) => c.id);
        expect(await ids({})).toEqual(['d', 'b', 'c', 'a']);
        expect(await ids({ states: ['queued'] })).toEqual(['c', 'a']);
        expect(await ids({ states: ['queued', 'assigned'], limit: 2 })).toEqual(['b', 'c']);
        expect(await ids({ caseId: 'case2' })).toEqual(['c']);
        expect(await ids({ customerId: 'test:u1', states: ['queued'] })).toEqual(['a']);
        expect(await ids({ assignee: 'op1' })).toEqual(['b']);
        expect(await ids({ assignee: 'op2' })).toEqual([]);
      });

      it('lists conversations last changed before an instant (the bot-close job\'s quiet ones)', async () => {
        await store.conversations.commit(
          makeTurn({
            conversations: [
              makeConversation('q1', { key: 'test:private:q1', state: 'bot', updatedAt: iso(1000) }),
              makeConversation('q2', { key: 'test:private:q2', state: 'bot', updatedAt: iso(2000) }),
              makeConversation('q3', { key: 'test:private:q3', state: 'bot', updatedAt: iso(3000) }),
              makeConversation('q4', { key: 'test:private:q4', state: 'queued', updatedAt: iso(500) }),
            ],
          }),
        );
        const ids = async (filter: Parameters<Store['conversations']['list']>[0]) => (await store.conversations.list(filter)).map((c) => c.id);
        expect(await ids({ states: ['bot'], updatedBefore: iso(3000) })).toEqual(['q2', 'q1']);
        expect(await ids({ states: ['bot'], updatedBefore: iso(2001), limit: 1 })).toEqual(['q2']);
        expect(await ids({ updatedBefore: iso(1000) })).toEqual(['q4']);
        expect(await ids({ states: ['bot'], updatedBefore: iso(0) })).toEqual([]);
      });

      it('lists resolved cases with no survey decided (or a follow-up due), resolved in a period, oldest resolution first, with a limit', async () => {
        const resolved = (id: string, at: number, over: Partial<Case> = {}) =>
          makeCase(id, { status: 'resolved', openedAt: iso(0), resolvedAt: iso(at), resolvedBy: 'op1', ...over });
        for (const c of [
          resolved('late', 9000),
          resolved('first', 1000),
          resolved('second', 2000),
          resolved('sent', 1500, { survey: { sentAt: iso(1600), channel: 'test' } }),
          resolved('skipped', 1700, { survey: { skipped: 'opted_out' } }),
          resolved('low', 2500, { survey: { sentAt: iso(2600), answeredAt: iso(2700), score: 1, followUpDue: 'cv-low' } }),
          resolved('followed', 2600, { survey: { sentAt: iso(2600), answeredAt: iso(2700), score: 1, followUpCaseId: 'case-f' } }),
          resolved('edge', 5000),
          makeCase('open', { openedAt: iso(0) }),
        ]) {
          await store.conversations.commit(makeTurn({ case: c }));
        }
        const ids = async (from: number, to: number, limit = 10) =>
          (await store.conversations.casesAwaitingSurvey({ resolvedFrom: iso(from), resolvedTo: iso(to), limit })).map((c) => c.id);
        expect(await ids(0, 5000)).toEqual(['first', 'second', 'low']);
        expect(await ids(0, 5001)).toEqual(['first', 'second', 'low', 'edge']);
        expect(await ids(1000, 10_000, 2)).toEqual(['first', 'second']);
        expect(await ids(1001, 10_000)).toEqual(['second', 'low', 'edge', 'late']);
        // Once its survey is decided, a case leaves the list.
        const ctx = await store.conversations.loadContext({ key: 'test:private:nobody', customerId: 'test:nobody', caseId: 'first' });
        expect(ctx.requestedCase?.id).toBe('first');
        await store.conversations.commit(makeTurn({ expect: ctx.revisions, case: { ...ctx.requestedCase!, survey: { sentAt: iso(9500), channel: 'test' } } }));
        expect(await ids(0, 10_000)).toEqual(['second', 'low', 'edge', 'late']);
      });

      it('finds the customer\'s most recent open case and lists all of their cases', async () => {
        await store.conversations.commit(makeTurn({ case: makeCase('old', { openedAt: iso(0) }) }));
        await store.conversations.commit(makeTurn({ case: makeCase('newer', { openedAt: iso(5000) }) }));
        await store.conversations.commit(makeTurn({ case: makeCase('closed', { openedAt: iso(9000), status: 'resolved' }) }));
        await store.conversations.commit(makeTurn({ case: makeCase('someone-else', { customerId: 'test:u2', openedAt: iso(9999) }) }));
        expect((await store.conversations.findOpenCase('test:u1'))?.id).toBe('newer');
        expect(await store.conversations.findOpenCase('test:nobody')).toBeUndefined();
        expect((await store.conversations.listCases('test:u1')).map((c) => c.id)).toEqual(['old', 'newer', 'closed']);
      });

      it('keeps an updated case or message in its place', async () => {
        await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1', { caseId: 'a' })], case: makeCase('a'), messages: [makeMessage('m1'), makeMessage('m2')] }));
        await store.conversations.commit(makeTurn({ case: makeCase('b') }));
        const expect_ = await revisionsOf(store, [makeConversation('cv1')]);
        await store.conversations.commit(makeTurn({ expect: expect_, case: makeCase('a', { status: 'resolved' }), messages: [makeMessage('m1', { platformId: 'p1' })] }));
        expect((await store.conversations.listCases('test:u1')).map((c) => [c.id, c.status])).toEqual([['a', 'resolved'], ['b', 'open']]);
        expect((await store.conversations.findOpenCase('test:u1'))?.id).toBe('b');
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => [m.id, m.platformId])).toEqual([['m1', 'p1'], ['m2', undefined]]);
      });

      it("reads a period's history: cases opened in it or with a message in it, all their messages, conversations and replies", async () => {
        const hour = 3_600_000;
        // before: opened and written before the period; ongoing: opened before, a message inside;
        // inside: opened inside, its reply after the period; after: opened at the period's end.
        await store.conversations.commit(
          makeTurn({
            conversations: [makeConversation('cv-before', { caseId: 'before' })],
            case: makeCase('before', { openedAt: iso(-2 * hour), conversationIds: ['cv-before'] }),
            messages: [makeMessage('m-before', { conversationId: 'cv-before', caseId: 'before', at: iso(-2 * hour) })],
          }),
        );
        await store.conversations.commit(
          makeTurn({
            conversations: [makeConversation('cv-ongoing', { caseId: 'ongoing', customerId: 'test:u2', key: 'test:private:u2' })],
            case: makeCase('ongoing', { customerId: 'test:u2', openedAt: iso(-hour), conversationIds: ['cv-ongoing'] }),
            messages: [
              makeMessage('m-ongoing-1', { conversationId: 'cv-ongoing', caseId: 'ongoing', at: '2026-03-02T08:00:00Z' }),
              makeMessage('m-ongoing-2', { conversationId: 'cv-ongoing', caseId: 'ongoing', at: '2026-03-02T10:30:00+01:00' }),
            ],
          }),
        );
        await store.conversations.commit(
          makeTurn({
            conversations: [makeConversation('cv-inside', { caseId: 'inside', customerId: 'test:u3', key: 'test:private:u3' })],
            case: makeCase('inside', { customerId: 'test:u3', openedAt: iso(hour), conversationIds: ['cv-inside'], survey: { sentAt: iso(3 * hour), score: 5 } }),
            messages: [
              makeMessage('m-inside', { conversationId: 'cv-inside', caseId: 'inside', at: iso(hour), escalation: { reason: 'human_request', priority: 2, slaDueAt: iso(2 * hour) } }),
              makeMessage('r-inside', { conversationId: 'cv-inside', caseId: 'inside', direction: 'out', author: { kind: 'bot' }, at: iso(3 * hour) }),
            ],
            outbox: [makeOutbox('r-inside', { conversationId: 'cv-inside', createdAt: iso(3 * hour) })],
          }),
        );
        await store.conversations.commit(
          makeTurn({
            conversations: [makeConversation('cv-after', { caseId: 'after', customerId: 'test:u4', key: 'test:private:u4' })],
            case: makeCase('after', { customerId: 'test:u4', openedAt: iso(2 * hour), conversationIds: ['cv-after'] }),
            messages: [makeMessage('m-after', { conversationId: 'cv-after', caseId: 'after', at: iso(2 * hour) })],
          }),
        );
        // The inside conversation's customer opens a new case later: the conversation moves to it, its old messages stay with the old case.
        const expect_ = await revisionsOf(store, [{ key: 'test:private:u3', customerId: 'test:u3' }]);
        await store.conversations.commit(
          makeTurn({
            expect: expect_,
            conversations: [makeConversation('cv-inside', { caseId: 'later', customerId: 'test:u3', key: 'test:private:u3', updatedAt: iso(5 * hour) })],
            case: makeCase('later', { customerId: 'test:u3', openedAt: iso(5 * hour), conversationIds: ['cv-inside'] }),
            messages: [makeMessage('m-later', { conversationId: 'cv-inside', caseId: 'later', at: iso(5 * hour) })],
          }),
        );
        await store.outbox.complete('r-inside', { status: 'sent', platformId: 'p-r', at: iso(3 * hour + 5000) });

        const h = await store.conversations.history({ from: iso(0), to: iso(2 * hour) });
        expect(h.cases.map((c) => c.id)).toEqual(['ongoing', 'inside']);
        expect(h.cases[1]!.survey).toEqual({ sentAt: iso(3 * hour), score: 5 });
        expect(h.messages.map((m) => m.id)).toEqual(['m-ongoing-1', 'm-ongoing-2', 'm-inside', 'r-inside']);
        expect(h.messages[2]!.escalation).toEqual({ reason: 'human_request', priority: 2, slaDueAt: iso(2 * hour) });
        expect(h.conversations.map((c) => c.id).sort()).toEqual(['cv-inside', 'cv-ongoing']);
        expect(h.replies.map((r) => [r.id, r.status, r.sentAt])).toEqual([['r-inside', 'sent', iso(3 * hour + 5000)]]);
        // Nothing in an empty period; the same answer after a restart.
        expect(await store.conversations.history({ from: iso(10 * hour), to: iso(11 * hour) })).toEqual({ cases: [], conversations: [], messages: [], replies: [] });
        store = await harness.reopen(store);
        expect(await store.conversations.history({ from: iso(0), to: iso(2 * hour) })).toEqual(h);
      });
    });

    describe('writing only what was read (revisions)', () => {
      beforeEach(async () => {
        await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1', { state: 'queued' })], case: makeCase('case1', { conversationIds: ['cv1'] }) }));
      });

      it('refuses a turn that writes a stored conversation or case it did not read, writing nothing', async () => {
        const turn = (over: Partial<TurnRecord>) => makeTurn({ messages: [makeMessage('unread')], outbox: [makeOutbox('unread')], ...over });
        await expect(store.conversations.commit(turn({ conversations: [makeConversation('cv1', { state: 'assigned', assignee: 'op1' })] }))).rejects.toBeInstanceOf(TurnConflictError);
        await expect(store.conversations.commit(turn({ case: makeCase('case1', { status: 'resolved' }) }))).rejects.toBeInstanceOf(TurnConflictError);
        // Listing another record's revision is no licence: the one written must be listed.
        const other = await revisionsOf(store, [makeConversation('cv1')]);
        const onlyTheCase = { conversations: {}, cases: other.cases };
        await expect(store.conversations.commit(turn({ expect: onlyTheCase, conversations: [makeConversation('cv1', { state: 'bot' })] }))).rejects.toBeInstanceOf(TurnConflictError);
        expect(await store.conversations.get('cv1')).toEqual(makeConversation('cv1', { state: 'queued' }));
        expect((await store.conversations.getCase('case1'))?.status).toBe('open');
        expect(await store.conversations.listMessages({})).toEqual([]);
        expect(await store.outbox.get('unread')).toBeUndefined();
      });

      it('writes a conversation read at its current revision, as given (a field left out is removed)', async () => {
        const read = await store.conversations.loadContext({ key: 'test:private:cv1', customerId: 'test:u1' });
        const claimed = { ...read.conversation!, state: 'assigned' as const, assignee: 'op1', updatedAt: iso(1000) };
        await store.conversations.commit(makeTurn({ expect: read.revisions, conversations: [claimed] }));
        expect(await store.conversations.get('cv1')).toEqual(claimed);
        expect((await store.conversations.list({ assignee: 'op1' })).map((c) => c.id)).toEqual(['cv1']);
        const again = await store.conversations.loadContext({ key: 'test:private:cv1', customerId: 'test:u1' });
        const { assignee: _gone, ...back } = { ...again.conversation!, state: 'queued' as const };
        await store.conversations.commit(makeTurn({ expect: again.revisions, conversations: [back] }));
        const stored = await store.conversations.get('cv1');
        expect(stored?.state).toBe('queued');
        expect('assignee' in (stored ?? {})).toBe(false);
      });

      it('lets exactly one of 20 concurrent claims win', async () => {
        const reads = await Promise.all(Array.from({ length: 20 }, () => store.conversations.loadContext({ key: 'test:private:cv1', customerId: 'test:u1' })));
        const results = await Promise.allSettled(
          reads.map((read, i) =>
            store.conversations.commit(makeTurn({ expect: read.revisions, conversations: [{ ...read.conversation!, state: 'assigned', assignee: `op${i}` }] })),
          ),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`op${i}`] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof TurnConflictError)).toBe(true);
        expect((await store.conversations.get('cv1'))?.assignee).toBe(winners[0]);
      });
    });

    describe('the outbox', () => {
      it.each([
        ['one turn', 1],
        ['three turns at the same moment', 3],
      ])('leases in the commit, when asked, exactly the replies a claim would hand out (%s)', async (_name, turns) => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o0', { conversationId: 'cv2' })] }));
        const items = [
          makeOutbox('a', { conversationId: 'cv1', notBefore: T0 }),
          makeOutbox('b', { conversationId: 'cv1', notBefore: T0 }),
          makeOutbox('c', { conversationId: 'cv2', notBefore: T0 }),
          makeOutbox('d', { conversationId: 'cv3', notBefore: T0 + 60_000 }),
          makeOutbox('e', { conversationId: 'cv4', notBefore: T0 - 5 }),
        ];
        const split = turns === 1 ? [items] : [items.slice(0, 2), items.slice(2, 4), items.slice(4)];
        const claim = { now: T0, leaseMs: 30_000 };
        const leased = (await Promise.all(split.map((outbox) => store.conversations.commit(makeTurn({ outbox }), { claim })))).flat();
        // a and e: first in line and due. b waits behind a, c behind o0 (unsent), d until its time.
        expect(leased.map((o) => o.id).sort()).toEqual(['a', 'e']);
        expect(leased.find((o) => o.id === 'a')).toEqual({ ...items[0], seq: 1, status: 'sending', attempts: 1, notBefore: T0 + 30_000 });
        for (const item of leased) expect(await store.outbox.get(item.id)).toEqual(item);
        expect(await store.outbox.get('b')).toMatchObject({ status: 'pending', seq: 2, attempts: 0 });
        // The leased ones are nobody else's to claim; o0 is. Without `claim`, nothing is leased.
        expect((await store.outbox.claim(T0, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['o0']);
        expect(await store.conversations.commit(makeTurn({ outbox: [makeOutbox('f', { conversationId: 'cv5', notBefore: T0 })] }))).toEqual([]);
        expect((await store.outbox.claim(T0, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['f']);
      });

      it('claims only the first unsent item of each conversation, leasing it', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('a2'), makeOutbox('b1', { conversationId: 'cv2' })] }));
        const claimed = await store.outbox.claim(T0, { test: 10 }, 30_000);
        expect(claimed.map((o) => o.id).sort()).toEqual(['a1', 'b1']);
        expect(claimed.find((o) => o.id === 'a1')).toMatchObject({ status: 'sending', attempts: 1, notBefore: T0 + 30_000, seq: 1 });
        expect(await store.outbox.get('a1')).toMatchObject({ status: 'sending', attempts: 1, notBefore: T0 + 30_000 });
        // Leased: nobody claims them again, and a2 waits behind a1.
        expect(await store.outbox.claim(T0 + 1000, { test: 10 }, 30_000)).toEqual([]);
      });

      it('claims due heads oldest first across many conversations, a limited batch at a time, each once', async () => {
        const items = Array.from({ length: 120 }, (_, i) => makeOutbox(`o${i}`, { conversationId: `cv${i % 40}`, notBefore: T0 + (i % 7) }));
        await store.conversations.commit(makeTurn({ outbox: items }));
        const claimedIds: string[] = [];
        for (let round = 0; round < 10; round++) {
          const batch = await store.outbox.claim(T0 + 10, { test: 15 }, 30_000);
          if (batch.length === 0) break;
          expect(batch.length).toBeLessThanOrEqual(15);
          for (const item of batch) {
            claimedIds.push(item.id);
            await store.outbox.complete(item.id, { status: 'sent', platformId: `p-${item.id}`, at: iso(20) });
          }
        }
        // Every item once, and each conversation's items in their order.
        expect([...claimedIds].sort()).toEqual(items.map((o) => o.id).sort());
        for (let c = 0; c < 40; c++) {
          const own = claimedIds.filter((id) => Number(id.slice(1)) % 40 === c).map((id) => Number(id.slice(1)));
          expect(own).toEqual([...own].sort((a, b) => a - b));
        }
      });

      it('claims an item again once its lease has expired', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1')] }));
        await store.outbox.claim(T0, { test: 10 }, 30_000);
        const again = await store.outbox.claim(T0 + 30_000, { test: 10 }, 30_000);
        expect(again).toHaveLength(1);
        expect(again[0]).toMatchObject({ id: 'a1', attempts: 2, notBefore: T0 + 60_000 });
      });

      it('moves on to the next item once the first is sent', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('a2')] }));
        await store.outbox.claim(T0, { test: 10 }, 30_000);
        // `more`: the conversation has an unsent item after this one, for the sender to claim.
        expect(await store.outbox.complete('a1', { status: 'sent', platformId: 'p-1', at: iso(10) })).toEqual({ more: true });
        expect(await store.outbox.get('a1')).toMatchObject({ status: 'sent', platformId: 'p-1', sentAt: iso(10) });
        expect((await store.outbox.claim(T0 + 10, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['a2']);
        expect(await store.outbox.complete('a2', { status: 'sent', platformId: 'p-2', at: iso(20) })).toEqual({ more: false });
        expect(await store.outbox.claim(T0 + 999_999, { test: 10 }, 30_000)).toEqual([]);
      });

      it('keeps a retried item first in line, not before its time', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('a2')] }));
        await store.outbox.claim(T0, { test: 10 }, 30_000);
        await store.outbox.complete('a1', { status: 'retry', notBefore: T0 + 5000, error: '429 rate limited' });
        expect(await store.outbox.get('a1')).toMatchObject({ status: 'pending', notBefore: T0 + 5000, lastError: '429 rate limited', attempts: 1 });
        expect(await store.outbox.claim(T0 + 4999, { test: 10 }, 30_000)).toEqual([]);
        expect((await store.outbox.claim(T0 + 5000, { test: 10 }, 30_000)).map((o) => [o.id, o.attempts])).toEqual([['a1', 2]]);
      });

      it('does not let a dead item block the ones after it', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('a2')] }));
        await store.outbox.claim(T0, { test: 10 }, 30_000);
        expect(await store.outbox.complete('a1', { status: 'dead', error: 'recipient blocked us' })).toEqual({ more: true });
        expect(await store.outbox.get('a1')).toMatchObject({ status: 'dead', lastError: 'recipient blocked us' });
        expect((await store.outbox.claim(T0, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['a2']);
        expect((await store.outbox.list({ status: 'dead' })).map((o) => o.id)).toEqual(['a1']);
      });

      it('claims nothing that is not due yet, and no more than the limit', async () => {
        await store.conversations.commit(
          makeTurn({
            outbox: [
              makeOutbox('later', { conversationId: 'cv1', notBefore: T0 + 60_000 }),
              makeOutbox('x', { conversationId: 'cv2', notBefore: T0 - 3 }),
              makeOutbox('y', { conversationId: 'cv3', notBefore: T0 - 2 }),
              makeOutbox('z', { conversationId: 'cv4', notBefore: T0 - 1 }),
            ],
          }),
        );
        expect((await store.outbox.claim(T0, { test: 2 }, 30_000)).map((o) => o.id)).toEqual(['x', 'y']);
        expect((await store.outbox.claim(T0, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['z']);
      });

      it('claims per channel: each up to its own room, none of a channel given no room, in time order', async () => {
        await store.conversations.commit(
          makeTurn({
            outbox: [
              makeOutbox('slow1', { conversationId: 'cv1', channel: 'slow', notBefore: T0 - 9 }),
              makeOutbox('slow2', { conversationId: 'cv2', channel: 'slow', notBefore: T0 - 8 }),
              makeOutbox('fast1', { conversationId: 'cv3', channel: 'fast', notBefore: T0 - 7 }),
              makeOutbox('fast2', { conversationId: 'cv4', channel: 'fast', notBefore: T0 - 6 }),
              makeOutbox('fast3', { conversationId: 'cv5', channel: 'fast', notBefore: T0 - 5 }),
              makeOutbox('other', { conversationId: 'cv6', channel: 'other', notBefore: T0 - 10 }),
            ],
          }),
        );
        // 'slow' has no room, 'other' is not named: only 'fast' items, up to its room.
        expect((await store.outbox.claim(T0, { slow: 0, fast: 2 }, 30_000)).map((o) => o.id)).toEqual(['fast1', 'fast2']);
        expect((await store.outbox.claim(T0, { slow: 1, fast: 5, other: 1 }, 30_000)).map((o) => o.id)).toEqual(['other', 'slow1', 'fast3']);
        expect((await store.outbox.claim(T0, { slow: 5 }, 30_000)).map((o) => o.id)).toEqual(['slow2']);
      });

      it('keeps an item in doubt as such: a retry records how many attempts had an unknown outcome', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('d1')] }));
        await store.outbox.claim(T0, { test: 1 }, 30_000);
        await store.outbox.complete('d1', { status: 'retry', notBefore: T0 + 10, error: 'timeout', inDoubt: 1 });
        expect(await store.outbox.get('d1')).toMatchObject({ status: 'pending', inDoubt: 1, lastError: 'timeout' });
        const [again] = await store.outbox.claim(T0 + 10, { test: 1 }, 30_000);
        expect(again).toMatchObject({ id: 'd1', inDoubt: 1, attempts: 2 });
      });

      it('refuses to complete an item that does not exist', async () => {
        await expect(store.outbox.complete('ghost', { status: 'dead', error: 'x' })).rejects.toThrow(/ghost/);
      });

      it('completes items at the same moment each on its own, the later completion of one item winning', async () => {
        await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a'), makeOutbox('b', { conversationId: 'cv2' })] }));
        const results = await Promise.allSettled([
          store.outbox.complete('a', { status: 'retry', notBefore: T0 + 5000, error: 'timeout' }),
          store.outbox.complete('ghost', { status: 'dead', error: 'x' }),
          store.outbox.complete('b', { status: 'dead', error: 'gone' }),
          store.outbox.complete('a', { status: 'sent', platformId: 'p-a', at: iso(1) }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect(await store.outbox.get('a')).toMatchObject({ status: 'sent', platformId: 'p-a', lastError: 'timeout' });
        expect(await store.outbox.get('b')).toMatchObject({ status: 'dead', lastError: 'gone' });
      });
    });

    describe('operators, suggestions and named values', () => {
      it('adds operators, finds them by id and name, and refuses a second operator with the same name', async () => {
        await store.directory.addOperator(makeOperator('op1', 'Marta'));
        await store.directory.addOperator(makeOperator('op2', 'Luca'));
        expect(await store.directory.getOperator('op2')).toEqual(makeOperator('op2', 'Luca'));
        expect((await store.directory.findOperatorByName('Marta'))?.id).toBe('op1');
        expect(await store.directory.findOperatorByName('Nessuno')).toBeUndefined();
        expect((await store.directory.listOperators()).map((o) => o.id)).toEqual(['op1', 'op2']);
        await expect(store.directory.addOperator(makeOperator('op3', 'Marta'))).rejects.toThrow(/Marta/);
        expect((await store.directory.listOperators()).length).toBe(2);
      });

      it('changes an operator\'s password hash, initials and role, never the name, and keeps the change', async () => {
        await store.directory.addOperator(makeOperator('op1', 'Marta'));
        const changed = await store.directory.updateOperator('op1', { passwordHash: 'scrypt$new', role: 'admin', name: 'Mallory' } as never);
        expect(changed).toEqual({ ...makeOperator('op1', 'Marta'), passwordHash: 'scrypt$new', role: 'admin' });
        store = await harness.reopen(store);
        expect(await store.directory.getOperator('op1')).toEqual(changed);
        expect((await store.directory.findOperatorByName('Marta'))?.passwordHash).toBe('scrypt$new');
        expect(await store.directory.updateOperator('ghost', { role: 'admin' })).toBeUndefined();
      });

      it('removes an operator, freeing the name, and keeps the removal across reopening', async () => {
        await store.directory.addOperator(makeOperator('op1', 'Marta'));
        await store.directory.addOperator(makeOperator('op2', 'Luca'));
        expect(await store.directory.removeOperator('op2')).toEqual(makeOperator('op2', 'Luca'));
        expect(await store.directory.removeOperator('op2')).toBeUndefined();
        expect(await store.directory.removeOperator('ghost')).toBeUndefined();
        expect(await store.directory.getOperator('op2')).toBeUndefined();
        expect(await store.directory.findOperatorByName('Luca')).toBeUndefined();
        store = await harness.reopen(store);
        expect((await store.directory.listOperators()).map((o) => o.id)).toEqual(['op1']);
        expect(await store.directory.updateOperator('op2', { role: 'admin' })).toBeUndefined();
        // The name is free again (a new person, a new id).
        await store.directory.addOperator(makeOperator('op3', 'Luca'));
        expect((await store.directory.findOperatorByName('Luca'))?.id).toBe('op3');
        expect((await store.exportAll()).operators.map((o) => o.id)).toEqual(['op1', 'op3']);
      });

      it('adds, updates and filters FAQ suggestions', async () => {
        await store.suggestions.add(makeSuggestion('s1'));
        await store.suggestions.add(makeSuggestion('s2'));
        const reviewed = await store.suggestions.update('s1', { status: 'approved', reviewedBy: 'op1', reviewedAt: iso(1000) });
        expect(reviewed).toMatchObject({ id: 's1', status: 'approved', reviewedBy: 'op1' });
        expect((await store.suggestions.list({ status: 'pending' })).map((s) => s.id)).toEqual(['s2']);
        expect((await store.suggestions.list()).map((s) => s.id)).toEqual(['s1', 's2']);
        expect(await store.suggestions.update('ghost', { status: 'rejected' })).toBeUndefined();
      });

      it('reads several values asked for at the same moment, each its own', async () => {
        await store.values.set('test', 'a', '1');
        await store.values.set('test', 'b', '2');
        await store.values.set('other', 'a', 'other namespace');
        expect(await Promise.all(['a', 'missing', 'b', 'a'].map((n) => store.values.get('test', n)))).toEqual(['1', undefined, '2', '1']);
        expect(await store.values.get('other', 'a')).toBe('other namespace');
      });

      it('keeps the last value written under a key, and forgets a deleted one', async () => {
        expect(await store.values.get('test', 'cursor')).toBeUndefined();
        await store.values.set('test', 'cursor', '1');
        await store.values.set('test', 'cursor', '2');
        expect(await store.values.get('test', 'cursor')).toBe('2');
        await store.values.delete('test', 'cursor');
        await store.values.delete('test', 'never-set');
        expect(await store.values.get('test', 'cursor')).toBeUndefined();
      });

      it('never returns a value after its time to live, and keeps one set again without it', async () => {
        await store.values.set('test', 'short', 'x', { ttlMs: 150 });
        await store.values.set('test', 'long', 'y', { ttlMs: 60_000 });
        await store.values.set('test', 'renewed', 'old', { ttlMs: 150 });
        await store.values.set('test', 'renewed', 'new');
        expect(await store.values.get('test', 'short')).toBe('x');
        await new Promise((r) => setTimeout(r, 300));
        expect(await store.values.get('test', 'short')).toBeUndefined();
        expect(await store.values.get('test', 'long')).toBe('y');
        expect(await store.values.get('test', 'renewed')).toBe('new');
        expect((await store.exportAll()).values).not.toHaveProperty('test:short');
        store = await harness.reopen(store);
        expect(await store.values.get('test', 'short')).toBeUndefined();
        expect(await store.values.get('test', 'long')).toBe('y');
        expect((await store.exportAll()).values).not.toHaveProperty('test:short');
      });

      it('counts: each of 50 increments made at once gets its own number, and the count survives reopening', async () => {
        const got = await Promise.all(Array.from({ length: 50 }, () => store.values.increment('test', 'tries', { ttlMs: 60_000 })));
        expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(await store.values.get('test', 'tries')).toBe('50');
        store = await harness.reopen(store);
        expect(await store.values.increment('test', 'tries')).toBe(51);
        expect(await store.values.increment('test', 'other')).toBe(1);
      });

      it('starts a counter again after its window, which the first increment opened and later ones do not extend', async () => {
        expect(await store.values.increment('test', 'window', { ttlMs: 250 })).toBe(1);
        await new Promise((r) => setTimeout(r, 100));
        expect(await store.values.increment('test', 'window', { ttlMs: 250 })).toBe(2);
        await new Promise((r) => setTimeout(r, 250));
        // expired 250 ms after the first increment, although the second came 100 ms later
        expect(await store.values.get('test', 'window')).toBeUndefined();
        expect(await store.values.increment('test', 'window', { ttlMs: 60_000 })).toBe(1);
        expect(await store.values.increment('test', 'window', { ttlMs: 60_000 })).toBe(2);
      });

      it('refuses to count a value that is not a whole number, and leaves it as it was', async () => {
        await store.values.set('test', 'word', 'hello');
        await expect(store.values.increment('test', 'word')).rejects.toThrow(/not a counter/);
        expect(await store.values.get('test', 'word')).toBe('hello');
        await expect(store.values.increment('test', 'k', { ttlMs: -1 })).rejects.toThrow(/time to live/);
        await expect(store.values.increment('Bad Space', 'k')).rejects.toThrow(/namespace/);
      });

      it('refuses a namespace that is not a plain word, and a time to live that is not positive', async () => {
        await expect(store.values.set('Bad Space', 'k', 'v')).rejects.toThrow(/namespace/);
        await expect(store.values.set('test', 'k', 'v', { ttlMs: 0 })).rejects.toThrow(/time to live/);
        expect(await store.values.get('test', 'k')).toBeUndefined();
      });
    });

    describe('turn contexts and revisions', () => {
      const seed = async () => {
        await store.conversations.commit(
          makeTurn({
            customer: makeCustomer(),
            conversations: [
              makeConversation('cv1', { key: 'test:public:t1', visibility: 'public' }),
              makeConversation('cv2'),
              makeConversation('cv3', { customerId: 'test:u2', caseId: 'case3', key: 'test:private:u2' }),
            ],
            case: makeCase('case1', { conversationIds: ['cv1', 'cv2'] }),
          }),
        );
        await store.conversations.commit(makeTurn({ case: makeCase('case3', { customerId: 'test:u2', conversationIds: ['cv3'] }) }));
      };

      it('reads the customer, the conversation, its case, the open cases and their other conversations in one call', async () => {
        await seed();
        const ctx = await store.conversations.loadContext({ key: 'test:public:t1', customerId: 'test:u1', linkedCustomerId: 'test:u2' });
        expect(ctx.customer).toEqual(makeCustomer());
        expect(ctx.conversation?.id).toBe('cv1');
        expect(ctx.case?.id).toBe('case1');
        expect(ctx.openCase?.id).toBe('case1');
        expect(ctx.linkedOpenCase?.id).toBe('case3');
        expect(ctx.related.map((c) => c.id).sort()).toEqual(['cv2', 'cv3']);
        expect(Object.keys(ctx.revisions.conversations).sort()).toEqual(['cv1', 'cv2', 'cv3']);
        expect(Object.keys(ctx.revisions.cases).sort()).toEqual(['case1', 'case3']);
      });

      it('reads a case by id in the same call (its conversations too), with its revision, and refuses a stale write of it', async () => {
        await seed();
        // The customer's other case, resolved: not the conversation's, not open.
        const older = await store.conversations.loadContext({ key: 'test:private:u2', customerId: 'test:u2' });
        await store.conversations.commit(makeTurn({ expect: older.revisions, case: { ...older.case!, status: 'resolved', resolvedAt: iso(100) } }));
        const ctx = await store.conversations.loadContext({ key: 'test:private:u9', customerId: 'test:u9', caseId: 'case3' });
        expect(ctx.conversation).toBeUndefined();
        expect(ctx.requestedCase).toMatchObject({ id: 'case3', status: 'resolved' });
        expect(ctx.related.map((c) => c.id)).toEqual(['cv3']);
        expect(Object.keys(ctx.revisions.cases)).toEqual(['case3']);
        expect((await store.conversations.loadContext({ key: 'test:private:u9', customerId: 'test:u9', caseId: 'nope' })).requestedCase).toBeUndefined();
        await store.conversations.commit(makeTurn({ expect: ctx.revisions, case: { ...ctx.requestedCase!, survey: { skipped: 'unreachable' } } }));
        await expect(store.conversations.commit(makeTurn({ expect: ctx.revisions, case: { ...ctx.requestedCase!, survey: { skipped: 'opted_out' } } }))).rejects.toBeInstanceOf(TurnConflictError);
        expect((await store.conversations.getCase('case3'))?.survey).toEqual({ skipped: 'unreachable' });
      });

      it('reads other conversations by key in the same call, with their revisions', async () => {
        await seed();
        const ctx = await store.conversations.loadContext({ key: 'test:private:u9', customerId: 'test:u9', otherKeys: ['test:private:u2', 'test:private:nobody'] });
        expect(ctx.conversation).toBeUndefined();
        expect(ctx.related.map((c) => c.id)).toEqual(['cv3']);
        expect(Object.keys(ctx.revisions.conversations)).toEqual(['cv3']);
        // What it read it may write.
        await store.conversations.commit(makeTurn({ expect: ctx.revisions, conversations: [{ ...ctx.related[0]!, missStreak: 4 }] }));
        expect((await store.conversations.get('cv3'))?.missStreak).toBe(4);
      });

      it('reads an empty context for a customer and key never seen', async () => {
        await seed();
        const ctx = await store.conversations.loadContext({ key: 'test:private:nobody', customerId: 'test:nobody' });
        expect(ctx).toEqual({ related: [], revisions: { conversations: {}, cases: {} } });
      });

      it('writes a turn whose conversations and case are still as read, and refuses one that raced another write', async () => {
        await seed();
        await accepted(store, makeInbound('m1'));
        const ctx = await store.conversations.loadContext({ key: 'test:public:t1', customerId: 'test:u1' });
        const turn = (tag: string, inbound?: string) =>
          makeTurn({
            expect: ctx.revisions,
            ...(inbound ? { inbound: { channel: 'test', id: inbound } } : {}),
            conversations: [{ ...ctx.conversation!, missStreak: ctx.conversation!.missStreak + 1, updatedAt: iso(1000) }],
            case: ctx.case,
            messages: [makeMessage(`msg-${tag}`)],
            outbox: [makeOutbox(`o-${tag}`)],
          });
        await store.conversations.commit(turn('first'));
        // The second turn read the same revisions: it must not overwrite what the first wrote.
        const err = await store.conversations.commit(turn('second', 'm1')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TurnConflictError);
        expect(await store.outbox.get('o-second')).toBeUndefined();
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => m.id)).toEqual(['msg-first']);
        expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m1']);
        // Run again on what is stored now, it goes through.
        const again = await store.conversations.loadContext({ key: 'test:public:t1', customerId: 'test:u1' });
        expect(again.conversation?.missStreak).toBe(1);
        await store.conversations.commit(makeTurn({ expect: again.revisions, inbound: { channel: 'test', id: 'm1' }, conversations: [{ ...again.conversation!, missStreak: 2 }], case: again.case }));
        expect((await store.conversations.get('cv1'))?.missStreak).toBe(2);
        expect(await store.inbox.pending(10)).toEqual([]);
      });

      it('refuses a turn when an operator claimed the conversation or another turn changed its case since it was read', async () => {
        await seed();
        const ctx = await store.conversations.loadContext({ key: 'test:public:t1', customerId: 'test:u1' });
        const claim = await store.conversations.loadContext({ key: 'test:public:t1', customerId: 'test:u1' });
        await store.conversations.commit(makeTurn({ expect: claim.revisions, conversations: [{ ...claim.conversation!, state: 'assigned', assignee: 'op1' }] }));
        await expect(store.conversations.commit(makeTurn({ expect: ctx.revisions, conversations: [ctx.conversation!] }))).rejects.toBeInstanceOf(TurnConflictError);
        expect(await store.conversations.get('cv1')).toMatchObject({ state: 'assigned', assignee: 'op1' });

        const fresh = await store.conversations.loadContext({ key: 'test:private:cv2', customerId: 'test:u1' });
        await store.conversations.commit(makeTurn({ expect: fresh.revisions, case: { ...fresh.case!, conversationIds: ['cv1', 'cv2', 'cv4'] } }));
        await expect(store.conversations.commit(makeTurn({ expect: fresh.revisions, case: fresh.case }))).rejects.toBeInstanceOf(TurnConflictError);
        expect((await store.conversations.getCase('case1'))?.conversationIds).toEqual(['cv1', 'cv2', 'cv4']);
      });

      it('refuses as a conflict a new conversation whose key another conversation took meanwhile', async () => {
        await seed();
        const err = await store
          .conversations.commit(makeTurn({ expect: { conversations: {}, cases: {} }, conversations: [makeConversation('cv9', { key: 'test:private:cv2' })] }))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TurnConflictError);
        expect(await store.conversations.get('cv9')).toBeUndefined();
      });

      it('commits turns made at the same moment each on its own: one refused, the others written', async () => {
        await seed();
        await accepted(store, makeInbound('m1'));
        await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' } }));
        const results = await Promise.allSettled([
          store.conversations.commit(makeTurn({ messages: [makeMessage('ok1')], outbox: [makeOutbox('ok1')] })),
          store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' }, messages: [makeMessage('dup')] })),
          store.conversations.commit(makeTurn({ expect: { conversations: { cv1: 999 }, cases: {} }, conversations: [makeConversation('cv1', { key: 'test:public:t1' })], messages: [makeMessage('stale')] })),
          store.conversations.commit(makeTurn({ messages: [makeMessage('ok2')], outbox: [makeOutbox('ok2')] })),
        ]);
        expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).constructor.name))).toEqual([
          'ok',
          'AlreadyProcessedError',
          'TurnConflictError',
          'ok',
        ]);
        expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => m.id)).toEqual(['ok1', 'ok2']);
        expect((await store.outbox.list({ conversationId: 'cv1' })).map((o) => [o.id, o.seq])).toEqual([['ok1', 1], ['ok2', 2]]);
      });
    });

    describe('conversation locks', () => {
      it('runs work for one key one at a time and different keys side by side', async () => {
        const log: string[] = [];
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        const work = (key: string, tag: string, ms: number) =>
          store.conversations.withLock(key, async () => {
            log.push(`start ${tag}`);
            await sleep(ms);
            log.push(`end ${tag}`);
            return tag;
          });
        const results = await Promise.all([work('k1', 'a', 40), work('k1', 'b', 0), work('k2', 'c', 0)]);
        expect(results).toEqual(['a', 'b', 'c']);
        expect(log.indexOf('end a')).toBeLessThan(log.indexOf('start b'));
        expect(log.indexOf('end c')).toBeLessThan(log.indexOf('end a'));
      });

      it('releases the lock when the work throws', async () => {
        await expect(store.conversations.withLock('k1', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
        expect(await store.conversations.withLock('k1', async () => 'ok')).toBe('ok');
      });
    });

    describe('outbound event deliveries', () => {
      const ids = (list: readonly EventDelivery[]) => list.map((d) => d.id);

      it('writes a turn\'s deliveries with it, and none of a refused turn', async () => {
        await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1')], deliveries: [makeDelivery('d1'), makeDelivery('d2', { orderKey: 'crm/cv2' })] }));
        expect(ids(await store.deliveries.list({ limit: 10 }))).toEqual(['d2', 'd1']);
        // It writes cv1 without having read it: refused whole, its delivery too.
        const refused = makeTurn({ conversations: [makeConversation('cv1', { state: 'queued' })], deliveries: [makeDelivery('d3')] });
        await expect(store.conversations.commit(refused)).rejects.toBeInstanceOf(TurnConflictError);
        // A delivery id that exists fails the turn, which writes nothing.
        await expect(store.conversations.commit(makeTurn({ outbox: [makeOutbox('o9')], deliveries: [makeDelivery('d1')] }))).rejects.toBeInstanceOf(StoreError);
        expect(await store.outbox.get('o9')).toBeUndefined();
        expect(ids(await store.deliveries.list({ limit: 10 }))).toEqual(['d2', 'd1']);
        expect((await store.deliveries.list({ limit: 10 }))[1]).toEqual(makeDelivery('d1'));
      });

      it('lists newest first, a page at a time, by status and subscription', async () => {
        const all = Array.from({ length: 7 }, (_, i) => makeDelivery(`d${i}`, { subscription: i % 2 ? 'erp' : 'crm', orderKey: `k${i}` }));
        await store.conversations.commit(makeTurn({ deliveries: all.slice(0, 4) }));
        await store.conversations.commit(makeTurn({ deliveries: all.slice(4) }));
        const first = await store.deliveries.list({ limit: 3 });
        expect(ids(first)).toEqual(['d6', 'd5', 'd4']);
        expect(ids(await store.deliveries.list({ limit: 3, before: 'd4' }))).toEqual(['d3', 'd2', 'd1']);
        expect(ids(await store.deliveries.list({ limit: 3, before: 'd1' }))).toEqual(['d0']);
        expect(ids(await store.deliveries.list({ limit: 10, subscription: 'erp' }))).toEqual(['d5', 'd3', 'd1']);
        await store.deliveries.complete('d2', { status: 'dead', error: 'HTTP 410', httpStatus: 410 });
        expect(ids(await store.deliveries.list({ limit: 10, status: 'dead' }))).toEqual(['d2']);
        expect(await store.deliveries.list({ limit: 10, before: 'nope' })).toEqual([]);
      });

      it('claims the first undelivered delivery of each order key, when due, once', async () => {
        await store.conversations.commit(
          makeTurn({
            deliveries: [
              makeDelivery('a1', { orderKey: 'crm/a' }),
              makeDelivery('b1', { orderKey: 'crm/b', notBefore: T0 + 60_000 }),
              makeDelivery('a2', { orderKey: 'crm/a' }),
              makeDelivery('c1', { orderKey: 'erp/a' }),
            ],
          }),
        );
        const first = await store.deliveries.claim(T0, 10, 30_000);
        expect(ids(first).sort()).toEqual(['a1', 'c1']);
        expect(first.find((d) => d.id === 'a1')).toMatchObject({ status: 'sending', attempts: 1, notBefore: T0 + 30_000 });
        // Leased: nobody else gets them, and a1 holds a2 back.
        expect(await store.deliveries.claim(T0 + 1000, 10, 30_000)).toEqual([]);
        await store.deliveries.complete('a1', { status: 'delivered', at: iso(1000), httpStatus: 204 });
        const next = await store.deliveries.claim(T0 + 1000, 10, 30_000);
        expect(ids(next)).toEqual(['a2']);
        // A retry waits until its time, keeping the last attempt's status and error.
        await store.deliveries.complete('a2', { status: 'retry', notBefore: T0 + 5000, error: 'HTTP 500', httpStatus: 500 });
        expect(await store.deliveries.claim(T0 + 2000, 10, 30_000)).toEqual([]);
        const again = await store.deliveries.claim(T0 + 5000, 10, 30_000);
        expect(again).toEqual([expect.objectContaining({ id: 'a2', attempts: 2, lastStatus: 500, lastError: 'HTTP 500' })]);
        // Leases that ran out are claimed again, in the order they ran out.
        expect(ids(await store.deliveries.claim(T0 + 40_000, 10, 30_000))).toEqual(['c1', 'a2']);
        // b1 is due after a minute; a dead delivery holds nothing back (claims go by due time).
        await store.deliveries.complete('a2', { status: 'dead', error: 'gave up' });
        await store.conversations.commit(makeTurn({ deliveries: [makeDelivery('a3', { orderKey: 'crm/a' })] }));
        expect(ids(await store.deliveries.claim(T0 + 60_000, 10, 30_000))).toEqual(['a3', 'b1']);
        const [delivered] = await store.deliveries.list({ limit: 1, status: 'delivered' });
        expect(delivered).toEqual({ ...makeDelivery('a1', { orderKey: 'crm/a' }), status: 'delivered', attempts: 1, notBefore: T0 + 30_000, deliveredAt: iso(1000), lastStatus: 204 });
        await expect(store.deliveries.complete('nope', { status: 'dead', error: 'x' })).rejects.toThrow(/nope/);
      });

      it('lets one of many concurrent claims have each delivery', async () => {
        await store.conversations.commit(makeTurn({ deliveries: Array.from({ length: 20 }, (_, i) => makeDelivery(`d${i}`, { orderKey: `k${i}` })) }));
        const claims = await Promise.all(Array.from({ length: 5 }, () => store.deliveries.claim(T0, 8, 30_000)));
        const got = claims.flatMap(ids);
        expect(got.length).toBe(20);
        expect(new Set(got).size).toBe(20);
      });

      it('writes an approval and its deliveries together, and nothing for an unknown suggestion', async () => {
        await store.suggestions.add(makeSuggestion('s1'));
        const updated = await store.suggestions.update('s1', { status: 'approved' }, { deliveries: [makeDelivery('f1', { orderKey: 'crm/faq', type: 'faq.approved' })] });
        expect(updated?.status).toBe('approved');
        expect(ids(await store.deliveries.list({ limit: 10 }))).toEqual(['f1']);
        expect(await store.suggestions.update('nope', { status: 'approved' }, { deliveries: [makeDelivery('f2')] })).toBeUndefined();
        expect(ids(await store.deliveries.list({ limit: 10 }))).toEqual(['f1']);
      });

      it('keeps undelivered deliveries across a reopen, and in an export and import', async () => {
        await store.conversations.commit(makeTurn({ deliveries: [makeDelivery('d1'), makeDelivery('d2', { orderKey: 'crm/cv2' })] }));
        await store.deliveries.claim(T0, 1, 30_000);
        store = await harness.reopen(store);
        const listed = await store.deliveries.list({ limit: 10 });
        expect(ids(listed)).toEqual(['d2', 'd1']);
        // A lease held when the store closed ends by its time at the latest.
        expect(ids(await store.deliveries.claim(T0 + 30_000, 10, 30_000)).sort()).toEqual(['d1', 'd2']);
        const snapshot = await store.exportAll();
        expect(ids(snapshot.deliveries ?? []).sort()).toEqual(['d1', 'd2']);
        await importedTwice(snapshot, async (target) => {
          expect(await target.deliveries.list({ limit: 10 })).toEqual(await store.deliveries.list({ limit: 10 }));
        });
      });
    });

    describe('posts heard by listening', () => {
      it('records heard posts once each and lists them newest first, by period, class and topic', async () => {
        await store.heard.add([
          makeHeard('p1', { at: iso(1000), topic: 'app bloccata' }),
          makeHeard('p2', { at: iso(3000), class: 'care', topic: 'app bloccata', spike: 'app bloccata' }),
          makeHeard('p3', { at: iso(2000), class: 'praise', sentiment: 0.8, topic: 'sciarpe', author: { id: 'a2' } }),
        ]);
        // Recorded again (a second instance, a platform's retry): the first record stays.
        await store.heard.add([makeHeard('p1', { at: iso(1000), text: 'changed', class: 'spam' }), makeHeard('p4', { at: iso(2000) })]);
        await store.heard.add([]);
        const all = await store.heard.list({ limit: 10 });
        // Newest first; two of the same time: the later recorded first.
        expect(all.map((h) => h.platformId)).toEqual(['p2', 'p4', 'p3', 'p1']);
        expect(all.find((h) => h.platformId === 'p1')).toEqual(makeHeard('p1', { at: iso(1000), topic: 'app bloccata' }));
        expect(all[0]).toEqual(makeHeard('p2', { at: iso(3000), class: 'care', topic: 'app bloccata', spike: 'app bloccata' }));
        expect((await store.heard.list({ limit: 2 })).map((h) => h.platformId)).toEqual(['p2', 'p4']);
        expect((await store.heard.list({ limit: 10, from: iso(2000), to: iso(3000) })).map((h) => h.platformId)).toEqual(['p4', 'p3']);
        expect((await store.heard.list({ limit: 10, class: 'care' })).map((h) => h.platformId)).toEqual(['p2']);
        expect((await store.heard.list({ limit: 10, topic: 'app bloccata' })).map((h) => h.platformId)).toEqual(['p2', 'p1']);
        expect(await store.heard.list({ limit: 0 })).toEqual([]);
      });

      it('pages heard posts with `before` (the last post of the page) and reads one by id', async () => {
        // Three of the same time: pages cut between them lose none and repeat none.
        await store.heard.add([
          makeHeard('p1', { at: iso(1000) }),
          makeHeard('p2', { at: iso(2000), class: 'praise' }),
          makeHeard('p3', { at: iso(2000) }),
          makeHeard('p4', { at: iso(2000), class: 'praise' }),
          makeHeard('p5', { at: iso(3000), class: 'praise' }),
        ]);
        const pages: string[][] = [];
        let before: string | undefined;
        for (;;) {
          const page = await store.heard.list({ limit: 2, ...(before ? { before } : {}) });
          if (page.length === 0) break;
          pages.push(page.map((h) => h.platformId));
          before = page.at(-1)!.id;
        }
        expect(pages).toEqual([['p5', 'p4'], ['p3', 'p2'], ['p1']]);
        // With a filter: the next praise after p4 is p2.
        expect((await store.heard.list({ limit: 10, class: 'praise', before: 'test:p4' })).map((h) => h.platformId)).toEqual(['p2']);
        // A post never recorded: no page after it.
        expect(await store.heard.list({ limit: 10, before: 'test:nope' })).toEqual([]);
        expect(await store.heard.get('test:p3')).toEqual(makeHeard('p3', { at: iso(2000) }));
        expect(await store.heard.get('test:nope')).toBeUndefined();
      });

      it('writes the alerts a post raised (their deliveries) with the post, and refuses a delivery id taken', async () => {
        await store.heard.add([makeHeard('p1')], { deliveries: [makeDelivery('d-alert', { orderKey: 'crm/crisis', type: 'crisis.alert' })] });
        expect((await store.heard.list({ limit: 10 })).map((h) => h.platformId)).toEqual(['p1']);
        expect((await store.deliveries.claim(T0 + 1000, 10, 1000)).map((d) => d.id)).toEqual(['d-alert']);
        await expect(store.heard.add([makeHeard('p2')], { deliveries: [makeDelivery('d-alert')] })).rejects.toThrow();
      });

      it('keeps heard posts across a reopen, in exports and imports', async () => {
        await store.heard.add([makeHeard('p1', { at: iso(1000) }), makeHeard('p2', { at: iso(2000), class: 'care' })]);
        store = await harness.reopen(store);
        expect((await store.heard.list({ limit: 10 })).map((h) => h.platformId)).toEqual(['p2', 'p1']);
        const snapshot = await store.exportAll();
        expect(snapshot.heard?.map((h) => h.platformId)).toEqual(['p1', 'p2']);
        await importedTwice(snapshot, async (target) => {
          expect(await target.heard.list({ limit: 10 })).toEqual(await store.heard.list({ limit: 10 }));
        });
      });
    });

    describe('the desk: search, customer files, saved replies', () => {
      /** Three customers' conversations with a few messages each (lowdb and PostgreSQL alike). */
      async function seed(): Promise<void> {
        await store.conversations.commit(
          makeTurn({
            customer: makeCustomer('test:u1', { name: 'Anna Rossi', handle: 'annar' }),
            conversations: [makeConversation('cv1', { state: 'resolved', language: 'it', createdAt: iso(0), updatedAt: iso(1000) })],
            messages: [
              makeMessage('m1', { text: 'La mia fattura di marzo è sbagliata', at: iso(0) }),
              makeMessage('m2', { direction: 'out', author: { kind: 'bot' }, text: 'Mi dispiace! Perché?', at: iso(500) }),
              makeMessage('m3', { direction: 'note', author: { kind: 'operator', operatorId: 'op1', name: 'Marta', initials: 'MR' }, text: 'rimborso-42 da verificare', at: iso(900) }),
            ],
          }),
        );
        await store.conversations.commit(
          makeTurn({
            customer: makeCustomer('test:u2', { name: 'Bob Smith', handle: 'bobby' }),
            conversations: [
              makeConversation('cv2', { key: 'test:private:cv2', customerId: 'test:u2', caseId: 'case2', state: 'queued', language: 'en', queue: { reason: 'human_request', priority: 2, enqueuedAt: iso(0) }, createdAt: iso(2000), updatedAt: iso(3000) }),
            ],
            messages: [makeMessage('m4', { conversationId: 'cv2', caseId: 'case2', text: 'Where is my invoice? PERCHÉ', at: iso(2000) })],
          }),
        );
        await store.conversations.commit(
          makeTurn({
            customer: makeCustomer('test:u3', { name: 'Carla Bianchi', handle: undefined }),
            conversations: [
              makeConversation('cv3', { key: 'test:private:cv3', customerId: 'test:u3', caseId: 'case3', state: 'assigned', assignee: 'op1', language: 'it', queue: { reason: 'vip', priority: 1, enqueuedAt: iso(0) }, createdAt: iso(4000), updatedAt: iso(5000) }),
            ],
            messages: [
              makeMessage('m5', { conversationId: 'cv3', caseId: 'case3', text: 'order-123 non arrivato a Łódź', at: iso(4000) }),
              makeMessage('m6', { conversationId: 'cv3', caseId: 'case3', direction: 'out', author: { kind: 'operator', operatorId: 'op1', name: 'Marta', initials: 'MR' }, text: 'Controllo subito', at: iso(4500) }),
            ],
          }),
        );
      }
      const find = async (q: Partial<ConversationQuery>) => {
        const { hits, total } = await store.search.find({ offset: 0, limit: 25, ...q });
        return { ids: hits.map((h) => h.conversation.id), total };
      };

      it('finds conversations by words of their messages or their customer, as word starts, ignoring case and accents', async () => {
        await seed();
        expect(await find({})).toEqual({ ids: ['cv3', 'cv2', 'cv1'], total: 3 });
        expect((await find({ text: 'fattura' })).ids).toEqual(['cv1']);
        expect((await find({ text: 'FATTUR' })).ids).toEqual(['cv1']);
        expect((await find({ text: 'perche' })).ids).toEqual(['cv2', 'cv1']);
        expect((await find({ text: 'perché' })).ids).toEqual(['cv2', 'cv1']);
        // a letter without a decomposition (ł) is kept as it is, in the index as in the query
        expect((await find({ text: 'łódź' })).ids).toEqual(['cv3']);
        expect((await find({ text: 'ŁODZ' })).ids).toEqual(['cv3']);
        // every word must be found, in any of the conversation's messages or its customer
        expect((await find({ text: 'marzo anna' })).ids).toEqual(['cv1']);
        expect((await find({ text: 'marzo bob' })).ids).toEqual([]);
        expect((await find({ text: 'bobby' })).ids).toEqual(['cv2']);
        expect((await find({ text: 'bianchi' })).ids).toEqual(['cv3']);
        // notes are searched too; anything but letters and digits separates words
        expect((await find({ text: 'rimborso' })).ids).toEqual(['cv1']);
        expect((await find({ text: '123' })).ids).toEqual(['cv3']);
        expect((await find({ text: 'nothing-like-this' })).ids).toEqual([]);
        // punctuation alone is no word: no filter
        expect((await find({ text: '?!' })).total).toBe(3);
      });

      it('filters by state, channel, language, operator, priority, reason, customers and period', async () => {
        await seed();
        expect((await find({ states: ['queued', 'assigned'] })).ids).toEqual(['cv3', 'cv2']);
        expect((await find({ languages: ['it'] })).ids).toEqual(['cv3', 'cv1']);
        expect((await find({ languages: ['it', 'en'] })).total).toBe(3);
        expect((await find({ channels: ['test'] })).total).toBe(3);
        expect((await find({ channels: ['other'] })).total).toBe(0);
        expect((await find({ channels: ['other', 'test'] })).total).toBe(3);
        expect((await find({ assignee: 'op1' })).ids).toEqual(['cv3']);
        expect((await find({ priority: 2 })).ids).toEqual(['cv2']);
        expect((await find({ reason: 'vip' })).ids).toEqual(['cv3']);
        expect((await find({ customerIds: ['test:u1', 'test:u3'] })).ids).toEqual(['cv3', 'cv1']);
        expect((await find({ customerIds: [] })).ids).toEqual([]);
        // active in the period: created before its end, updated at or after its start
        expect((await find({ from: iso(2500), to: iso(4500) })).ids).toEqual(['cv3', 'cv2']);
        expect((await find({ to: iso(2000) })).ids).toEqual(['cv1']);
        expect((await find({ text: 'perche', languages: ['en'] })).ids).toEqual(['cv2']);
      });

      it('tells which conversations wait on the customer (an operator wrote last), and gives each hit its customer and last message (notes aside)', async () => {
        await seed();
        // cv3's last message is an operator's reply; cv1's the bot's, cv2's the customer's
        expect((await find({ waitingOnCustomer: true })).ids).toEqual(['cv3']);
        expect((await find({ waitingOnCustomer: false })).ids).toEqual(['cv2', 'cv1']);
        const { hits } = await store.search.find({ offset: 0, limit: 25, text: 'fattura' });
        expect(hits[0]!.customer).toMatchObject({ id: 'test:u1', name: 'Anna Rossi', handle: 'annar' });
        expect(hits[0]!.lastMessage).toMatchObject({ id: 'm2', direction: 'out' });
      });

      it('gives each hit of a word search the message that matched: the one holding most of the words, the latest of equals, notes included', async () => {
        await seed();
        const match = async (text: string) => (await store.search.find({ offset: 0, limit: 25, text })).hits.map((h) => [h.conversation.id, h.match?.id ?? null]);
        expect(await match('fattura')).toEqual([['cv1', 'm1']]); // not the bot's later reply, the last message
        expect(await match('rimborso')).toEqual([['cv1', 'm3']]); // a note
        expect(await match('perche')).toEqual([['cv2', 'm4'], ['cv1', 'm2']]);
        expect(await match('mi marzo')).toEqual([['cv1', 'm1']]); // m1 holds both words, m2 one
        expect(await match('anna')).toEqual([['cv1', null]]); // only the customer's name matched
        expect((await store.search.find({ offset: 0, limit: 25 })).hits.every((h) => h.match === undefined)).toBe(true);
      });

      it('pages, with the total of every page, also past the end', async () => {
        await seed();
        expect(await find({ limit: 2 })).toEqual({ ids: ['cv3', 'cv2'], total: 3 });
        expect(await find({ limit: 2, offset: 2 })).toEqual({ ids: ['cv1'], total: 3 });
        expect(await find({ limit: 2, offset: 4 })).toEqual({ ids: [], total: 3 });
      });

      it('keeps its word index in step: a reopened store and a renamed customer are found by their words', async () => {
        await seed();
        store = await harness.reopen(store);
        expect((await find({ text: 'fattura' })).ids).toEqual(['cv1']);
        await store.conversations.commit(makeTurn({ customer: makeCustomer('test:u2', { name: 'Roberto Verdi', handle: 'bobby' }) }));
        expect((await find({ text: 'roberto' })).ids).toEqual(['cv2']);
        expect((await find({ text: 'smith' })).ids).toEqual([]);
      });

      it('keeps tags, notes and links on a customer file, across reopening', async () => {
        expect(await store.customerFiles.get('test:u1')).toEqual({ customerId: 'test:u1', tags: [], notes: [], links: [], updatedAt: new Date(0).toISOString() });
        const tagged = await store.customerFiles.setTags('test:u1', [' VIP', 'reso', 'vip', ''], iso(1));
        expect(tagged.tags).toEqual(['reso', 'vip']);
        await store.customerFiles.addNote('test:u1', { id: 'n1', text: 'preferisce la mail', operatorId: 'op1', at: iso(2) });
        const noted = await store.customerFiles.addNote('test:u1', { id: 'n2', text: 'cliente dal 2019', operatorId: 'op2', at: iso(3) });
        expect(noted.notes.map((n) => n.id)).toEqual(['n1', 'n2']);
        expect(noted.tags).toEqual(['reso', 'vip']);
        await store.customerFiles.link('test:u1', 'other:9', iso(4));
        await store.customerFiles.link('other:9', 'test:u1', iso(5));
        await store.customerFiles.link('test:u1', 'abc:1', iso(6));
        await expect(store.customerFiles.link('test:u1', 'test:u1', iso(7))).rejects.toThrow(/itself/);
        store = await harness.reopen(store);
        const file = await store.customerFiles.get('test:u1');
        expect(file).toMatchObject({ tags: ['reso', 'vip'], links: ['abc:1', 'other:9'], updatedAt: iso(6) });
        expect(file.notes).toEqual([
          { id: 'n1', text: 'preferisce la mail', operatorId: 'op1', at: iso(2) },
          { id: 'n2', text: 'cliente dal 2019', operatorId: 'op2', at: iso(3) },
        ]);
        expect((await store.customerFiles.get('other:9')).links).toEqual(['test:u1']);
        expect(await store.customerFiles.withTag('VIP')).toEqual(['test:u1']);
        await store.customerFiles.setTags('test:u2', ['vip'], iso(8));
        expect(await store.customerFiles.withTag('vip')).toEqual(['test:u1', 'test:u2']);
        expect(await store.customerFiles.withTag('none')).toEqual([]);
        await store.customerFiles.setTags('test:u1', [], iso(9));
        expect(await store.customerFiles.withTag('vip')).toEqual(['test:u2']);
        // unlinking removes both sides; unlinking what is not linked changes nothing
        await store.customerFiles.unlink('other:9', 'test:u1', iso(10));
        expect((await store.customerFiles.get('test:u1')).links).toEqual(['abc:1']);
        expect((await store.customerFiles.get('other:9')).links).toEqual([]);
        await store.customerFiles.unlink('x:1', 'y:2', iso(11));
        expect(await store.customerFiles.get('x:1')).toEqual({ customerId: 'x:1', tags: [], notes: [], links: [], updatedAt: new Date(0).toISOString() });
      });

      it('keeps notes written at once', async () => {
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.customerFiles.addNote('test:u1', { id: `n${i}`, text: `note ${i}`, operatorId: 'op1', at: iso(i) })));
        expect((await store.customerFiles.get('test:u1')).notes.map((n) => n.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`).sort());
      });

      it('stores saved replies, one shortcut per language', async () => {
        const reply = (id: string, over: Partial<SavedReply> = {}): SavedReply => ({
          id,
          language: 'it',
          shortcut: 'orari',
          title: 'Orari',
          text: 'Ciao {customer_name}, siamo aperti {business_hours}.',
          createdBy: 'op1',
          createdAt: iso(0),
          updatedAt: iso(0),
          ...over,
        });
        await store.savedReplies.put(reply('r1'));
        await store.savedReplies.put(reply('r2', { language: 'en', shortcut: 'hours', title: 'Hours' }));
        await store.savedReplies.put(reply('r3', { shortcut: 'grazie' }));
        await store.savedReplies.put(reply('r4', { language: 'en', shortcut: 'orari' }));
        await expect(store.savedReplies.put(reply('r5'))).rejects.toBeInstanceOf(ConflictError);
        expect((await store.savedReplies.list()).map((r) => r.id)).toEqual(['r2', 'r4', 'r3', 'r1']);
        expect((await store.savedReplies.list({ language: 'it' })).map((r) => r.id)).toEqual(['r3', 'r1']);
        await store.savedReplies.put(reply('r1', { text: 'changed', updatedAt: iso(5) }));
        store = await harness.reopen(store);
        expect(await store.savedReplies.get('r1')).toEqual(reply('r1', { text: 'changed', updatedAt: iso(5) }));
        expect(await store.savedReplies.delete('r1')).toBe(true);
        expect(await store.savedReplies.delete('r1')).toBe(false);
        expect(await store.savedReplies.get('r1')).toBeUndefined();
        expect(await store.savedReplies.get('r5')).toBeUndefined();
      });
    });

    describe("a customer's data (issue 22: find, collect, erase)", () => {
      const ANNA = 'test:anna77';
      /** Anna's case on one conversation (a private message with an order number, a reply, a note, a survey comment), Bob's beside it. */
      async function seed(): Promise<void> {
        await accepted(store, makeInbound('pm-101', { customer: { platformId: 'anna77', name: 'Anna Rossi' }, text: 'ordine 99887766 in ritardo' }));
        await store.conversations.commit(
          makeTurn({
            inbound: { channel: 'test', id: 'pm-101' },
            customer: makeCustomer(ANNA, { name: 'Anna Rossi', handle: 'annarossi', lastSeenAt: iso(100) }),
            conversations: [makeConversation('cv1', { key: 'test:private:anna77', customerId: ANNA, threadId: 'th-anna77', state: 'resolved', createdAt: iso(0), updatedAt: iso(900) })],
            case: makeCase('case1', { customerId: ANNA, status: 'resolved', conversationIds: ['cv1'], resolvedAt: iso(900), survey: { score: 2, comment: 'pessimo servizio Anna', answeredAt: iso(950) } }),
            messages: [
              makeMessage('m1', { platformId: 'pm-101', text: 'ordine 99887766 in ritardo', at: iso(0) }),
              makeMessage('m2', { direction: 'out', author: { kind: 'operator', operatorId: 'op1', name: 'Marta', initials: 'MR' }, text: 'Ciao Anna, controllo subito', at: iso(500) }),
              makeMessage('m3', { direction: 'note', author: { kind: 'operator', operatorId: 'op1', name: 'Marta', initials: 'MR' }, text: 'cliente Anna molto arrabbiata', at: iso(600) }),
            ],
            outbox: [makeOutbox('o1', { recipient: 'anna77', reply: { kind: 'text', text: 'Ciao Anna, controllo subito' } }), makeOutbox('o2', { recipient: 'anna77', reply: { kind: 'text', text: 'Anna, ecco il rimborso' } })],
            deliveries: [makeDelivery('d1', { orderKey: 'crm/cv1', payload: { type: 'message.created', data: { conversationId: 'cv1', text: 'ordine 99887766 in ritardo' } } })],
          }),
        );
        await store.outbox.claim(T0, { test: 10 }, 1000);
        await store.outbox.complete('o1', { status: 'sent', platformId: 'tw-reply-1', at: iso(510) });
        // A later message of hers, accepted and not processed yet.
        await accepted(store, makeInbound('pm-102', { customer: { platformId: 'anna77', name: 'Anna Rossi' }, text: 'e il mio IBAN IT60X0542811101000000123456?' }));
        await store.conversations.commit(
          makeTurn({
            customer: makeCustomer('test:bob99', { name: 'Bob Smith', handle: 'bobby' }),
            conversations: [makeConversation('cv2', { key: 'test:private:bob99', customerId: 'test:bob99', caseId: 'case2' })],
            case: makeCase('case2', { customerId: 'test:bob99', conversationIds: ['cv2'] }),
            messages: [makeMessage('b1', { conversationId: 'cv2', caseId: 'case2', text: 'hello from Bob' })],
            deliveries: [makeDelivery('d2', { orderKey: 'crm/cv2', payload: { type: 'message.created', data: { conversationId: 'cv2' } } })],
          }),
        );
        await store.suggestions.add(makeSuggestion('s-pending', { questions: ['ordine in ritardo?'] }));
        await store.suggestions.add(makeSuggestion('s-approved', { status: 'approved' }));
        await store.values.set('test', 'reach:anna77', 'open');
        await store.values.set('webchat', 'session:abc', JSON.stringify({ customerId: ANNA }));
        await store.values.set('test', 'reach:bob99', 'open');
        await store.customerFiles.setTags(ANNA, ['vip'], iso(1));
        await store.customerFiles.addNote(ANNA, { id: 'n1', text: 'Anna preferisce email', operatorId: 'op1', at: iso(2) });
        await store.customerFiles.link(ANNA, 'test:bob99', iso(3));
        // Posts listening heard: one of hers, one of Bob's.
        const post = (id: string, author: { id: string; handle: string }, text: string) =>
          ({ id: `test:${id}`, channel: 'test', platformId: id, at: iso(50), kind: 'post', author: { ...author, followers: 40 }, text, language: 'it', sentiment: -0.6, class: 'care', topic: 'risponde' }) as const;
        await store.heard.add([post('hp1', { id: 'anna77', handle: 'annarossi' }, 'Anna Rossi: nessuno risponde'), post('hp2', { id: 'bob99', handle: 'bobby' }, 'Bob: nessuno risponde')]);
      }

      it('finds customers by name, handle, id or platform id, ignoring case, last seen first', async () => {
        await seed();
        expect((await store.customerData.find('ROSSI', 10)).map((c) => c.id)).toEqual([ANNA]);
        expect((await store.customerData.find('bobby', 10)).map((c) => c.id)).toEqual(['test:bob99']);
        expect((await store.customerData.find('anna77', 10)).map((c) => c.id)).toEqual([ANNA]);
        expect((await store.customerData.find('test:', 10)).map((c) => c.id)).toEqual([ANNA, 'test:bob99']);
        expect(await store.customerData.find('test:', 1)).toHaveLength(1);
        expect(await store.customerData.find('nobody', 10)).toEqual([]);
      });

      it("collects everything held about one customer, and nothing of another's", async () => {
        await seed();
        const r = (await store.customerData.collect(ANNA))!;
        expect(r.customer.name).toBe('Anna Rossi');
        expect(r.conversations.map((c) => c.id)).toEqual(['cv1']);
        expect(r.cases.map((c) => c.id)).toEqual(['case1']);
        expect(r.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
        expect(r.outbox.map((o) => o.id)).toEqual(['o1', 'o2']);
        expect(r.deliveries.map((d) => d.id)).toEqual(['d1']);
        expect(r.suggestions.map((s) => s.id).sort()).toEqual(['s-approved', 's-pending']);
        expect(r.values.map((v) => v.name).sort()).toEqual(['test:reach:anna77', 'webchat:session:abc']);
        expect(r.file?.notes.map((n) => n.text)).toEqual(['Anna preferisce email']);
        expect(r.heard.map((h) => h.id)).toEqual(['test:hp1']);
        expect(await store.customerData.collect('test:nobody')).toBeUndefined();
      });

      it('erases a customer: gone everywhere, kept records anonymised for reports, others untouched, also after reopening', async () => {
        await seed();
        const before = await store.conversations.history({ from: iso(-1000), to: iso(10_000) });
        const result = (await store.customerData.erase(ANNA, { pseudonym: 'erased-p1', at: iso(2000) }))!;
        expect(result.removed).toEqual({ customers: 1, files: 1, deliveries: 1, suggestions: 1, values: 2, inbound: 2 });
        expect(result.anonymised).toEqual({ conversations: 1, cases: 1, messages: 3, outbox: 2, heard: 1 });
        expect(await store.customerData.erase(ANNA, { pseudonym: 'erased-p2', at: iso(2000) })).toBeUndefined();
        for (const reopen of [false, true]) {
          if (reopen) store = await harness.reopen(store);
          const s = store;
          expect(await s.directory.getCustomer(ANNA)).toBeUndefined();
          expect(await s.customerData.find('anna', 10)).toEqual([]);
          expect(await s.conversations.findByKey('test:private:anna77')).toBeUndefined();
          const cv1 = (await s.conversations.get('cv1'))!;
          expect(cv1.customerId).toBe('erased-p1');
          expect(cv1.threadId).toBeUndefined();
          const case1 = (await s.conversations.getCase('case1'))!;
          expect(case1).toMatchObject({ customerId: 'erased-p1', status: 'resolved', openedAt: iso(0), resolvedAt: iso(900), survey: { score: 2 } });
          expect(case1.survey?.comment).toBeUndefined();
          expect((await s.conversations.listMessages({ conversationId: 'cv1' })).map((m) => [m.id, m.text, m.at])).toEqual([
            ['m1', '', iso(0)],
            ['m2', '', iso(500)],
            ['m3', '', iso(600)],
          ]);
          expect(await s.outbox.get('o1')).toMatchObject({ status: 'sent', sentAt: iso(510), recipient: 'erased-p1', reply: { kind: 'text', text: '' } });
          expect(await s.outbox.get('o2')).toMatchObject({ status: 'dead', recipient: 'erased-p1' });
          expect(await s.outbox.claim(T0 + 100_000, { test: 10 }, 1000)).toEqual([]);
          expect((await s.deliveries.list({ limit: 10 })).map((d) => d.id)).toEqual(['d2']);
          expect((await s.suggestions.list()).map((x) => x.id)).toEqual(['s-approved']);
          expect(await s.values.get('test', 'reach:anna77')).toBeUndefined();
          expect(await s.values.get('webchat', 'session:abc')).toBeUndefined();
          expect(await s.values.get('test', 'reach:bob99')).toBe('open');
          expect(await s.customerFiles.get(ANNA)).toMatchObject({ tags: [], notes: [], links: [] });
          expect((await s.customerFiles.get('test:bob99')).links).toEqual([]);
          expect(await s.customerFiles.withTag('vip')).toEqual([]);
          expect((await s.search.find({ text: 'ritardo', offset: 0, limit: 10 })).total).toBe(0);
          expect((await s.search.find({ text: 'bob', offset: 0, limit: 10 })).total).toBe(1);
          expect(await s.inbox.pending(10)).toEqual([]);
          // Listening still counts her post, without author or words; Bob's is untouched.
          const heard = await s.heard.list({ limit: 10 });
          expect(heard.find((h) => h.id === 'test:hp1')).toMatchObject({ author: { id: 'erased-p1' }, text: '', class: 'care', topic: 'risponde', at: iso(50) });
          expect(heard.find((h) => h.id === 'test:hp2')).toMatchObject({ author: { id: 'bob99', handle: 'bobby' }, text: 'Bob: nessuno risponde' });
          // Reports still count the case, its conversations, messages and replies at their times.
          const after = await s.conversations.history({ from: iso(-1000), to: iso(10_000) });
          expect(after.cases.map((c) => [c.id, c.openedAt, c.resolvedAt])).toEqual(before.cases.map((c) => [c.id, c.openedAt, c.resolvedAt]));
          expect(after.messages.map((m) => [m.id, m.at, m.direction])).toEqual(before.messages.map((m) => [m.id, m.at, m.direction]));
          expect(after.replies.map((o) => o.id)).toEqual(before.replies.map((o) => o.id));
          // Nothing anywhere names her any more.
          const all = JSON.stringify(await s.exportAll());
          for (const text of ['anna77', 'Anna', 'Rossi', '99887766', 'th-anna77', 'tw-reply-1', 'pessimo', 'IT60X', 'pm-101', 'pm-102']) expect(all).not.toContain(text);
          expect(all).toContain('hello from Bob');
        }
        // A new message from her starts afresh.
        await store.conversations.commit(makeTurn({ customer: makeCustomer(ANNA), conversations: [makeConversation('cv9', { key: 'test:private:anna77', customerId: ANNA, caseId: 'case9' })] }));
        expect((await store.conversations.findByKey('test:private:anna77'))?.id).toBe('cv9');
      });

      it('finds the records a retention rule expired (last seen, changed and written to before the cutoff, nothing open) and erases them as erase does, once', async () => {
        await seed();
        // A web chat style visitor who never gave a name, and a named one, both long resolved.
        const visitor = (id: string, over: Partial<Customer>, messageAt = iso(10)) =>
          store.conversations.commit(
            makeTurn({
              customer: makeCustomer(`test:${id}`, { handle: undefined, lastSeenAt: iso(10), ...over }),
              conversations: [makeConversation(`cv-${id}`, { key: `test:private:${id}`, customerId: `test:${id}`, caseId: `case-${id}`, state: 'resolved', updatedAt: iso(20) })],
              case: makeCase(`case-${id}`, { customerId: `test:${id}`, status: 'resolved', conversationIds: [`cv-${id}`], resolvedAt: iso(20) }),
              messages: [makeMessage(`msg-${id}`, { conversationId: `cv-${id}`, caseId: `case-${id}`, text: `scrive ${id}`, at: messageAt })],
            }),
          );
        await visitor('v1', {});
        await visitor('v2', { name: 'Carla' });
        // Anna's conversation changed at iso(900): not expired before then; Bob's case is open: never.
        expect(await store.customerData.expired({ channels: { test: iso(900) } }, 10)).toEqual(['test:v1', 'test:v2']);
        expect(await store.customerData.expired({ channels: { test: iso(901) } }, 10)).toEqual(['test:v1', 'test:v2', ANNA]);
        expect(await store.customerData.expired({ channels: { test: iso(901) } }, 1)).toEqual(['test:v1']);
        expect(await store.customerData.expired({ channels: { test: iso(1_000_000) } }, 10)).not.toContain('test:bob99');
        // A channel not in the rule is kept; nameless visitors of the anonymous channels get their own cutoff.
        expect(await store.customerData.expired({ channels: { other: iso(1_000_000) } }, 10)).toEqual([]);
        // `others`: the cutoff of every channel not listed; a channel listed as null is kept.
        expect(await store.customerData.expired({ channels: {}, others: iso(901) }, 10)).toEqual(['test:v1', 'test:v2', ANNA]);
        expect(await store.customerData.expired({ channels: { test: null }, others: iso(1_000_000) }, 10)).toEqual([]);
        expect(await store.customerData.expired({ channels: {}, anonymous: { channels: ['test'], before: iso(21) } }, 10)).toEqual(['test:v1']);
        expect(await store.customerData.expired({ channels: { test: iso(5) }, anonymous: { channels: ['test'], before: iso(21) } }, 10)).toEqual(['test:v1']);
        expect(await store.customerData.expired({ channels: { test: iso(1_000_000) }, anonymous: { channels: ['test'], before: iso(5) } }, 10)).toEqual(['test:v2', ANNA]);
        // A message at or after the cutoff keeps the record (its conversation's time aside).
        await visitor('v3', {}, iso(950));
        expect(await store.customerData.expired({ channels: { test: iso(600) } }, 10)).toEqual(['test:v1', 'test:v2']);

        let n = 0;
        const rule = { channels: { test: iso(901) } };
        const done = await store.customerData.expire(rule, { limit: 10, at: iso(2000), pseudonym: () => `retired-${(n += 1)}` });
        expect(done.map((d) => [d.customerId, d.result.pseudonym])).toEqual([
          ['test:v1', 'retired-1'],
          ['test:v2', 'retired-2'],
          [ANNA, 'retired-3'],
        ]);
        // The erasure's own result: the same counts as erase gives for Anna.
        expect(done[2]!.result.anonymised).toEqual({ conversations: 1, cases: 1, messages: 3, outbox: 2, heard: 1 });
        expect(done[2]!.result.removed).toEqual({ customers: 1, files: 1, deliveries: 1, suggestions: 1, values: 2, inbound: 2 });
        expect(await store.customerData.expire(rule, { limit: 10, at: iso(2000), pseudonym: () => 'again' })).toEqual([]);
        for (const reopen of [false, true]) {
          if (reopen) store = await harness.reopen(store);
          expect(await store.directory.getCustomer(ANNA)).toBeUndefined();
          expect(await store.directory.getCustomer('test:v1')).toBeUndefined();
          expect((await store.conversations.get('cv1'))!.customerId).toBe('retired-3');
          expect((await store.conversations.getCase('case-v1'))).toMatchObject({ customerId: 'retired-1', status: 'resolved', resolvedAt: iso(20) });
          expect((await store.conversations.listMessages({ conversationId: 'cv-v1' })).map((m) => [m.text, m.at])).toEqual([['', iso(10)]]);
          // Bob (open) and v3 (written to later) are untouched.
          expect(await store.directory.getCustomer('test:bob99')).toMatchObject({ name: 'Bob Smith' });
          expect((await store.conversations.listMessages({ conversationId: 'cv-v3' })).map((m) => m.text)).toContain('scrive v3');
          const all = JSON.stringify(await store.exportAll());
          for (const text of ['anna77', 'Rossi', '99887766', 'scrive v1', 'Carla']) expect(all).not.toContain(text);
        }
      });
    });

    describe('the audit trail (issue 22)', () => {
      it('appends entries, lists them oldest first by time and operator, refuses an id twice, keeps them across reopening and in an export', async () => {
        await store.audit.append({ id: 'a2', at: iso(2000), operatorId: 'op2', action: 'customer.erase', target: 'customer#ab12', from: '127.0.0.1' });
        await store.audit.append({ id: 'a1', at: iso(1000), operatorId: 'op1', action: 'customer.export', target: 'customer#ab12' });
        await store.audit.append({ id: 'a3', at: iso(3000), operatorId: 'op1', action: 'login' });
        await expect(store.audit.append({ id: 'a1', at: iso(9000), operatorId: 'op9', action: 'x' })).rejects.toBeInstanceOf(ConflictError);
        store = await harness.reopen(store);
        expect((await store.audit.list({ limit: 10 })).map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
        expect((await store.audit.list({ limit: 10, operatorId: 'op1' })).map((a) => a.id)).toEqual(['a1', 'a3']);
        expect((await store.audit.list({ limit: 10, from: iso(2000) })).map((a) => a.id)).toEqual(['a2', 'a3']);
        expect(await store.audit.list({ limit: 1 })).toEqual([{ id: 'a1', at: iso(1000), operatorId: 'op1', action: 'customer.export', target: 'customer#ab12' }]);
        const doc = await store.exportAll();
        expect(doc.audit?.map((a) => a.id)).toEqual(['a2', 'a1', 'a3']); // in the order appended
        await importedTwice(doc, async (other) => {
          expect((await other.audit.list({ limit: 10 })).map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
        });
      });

      it('pages the trail by time then order appended, both ways, filtered by period, operator and action, with a cursor a later entry does not shift', async () => {
        // Same instant for b1..b3 (a fake clock, or one millisecond): the order appended decides.
        await store.audit.append({ id: 'b2', at: iso(2000), operatorId: 'op1', action: 'conversation.open', target: 'cv1' });
        await store.audit.append({ id: 'b1', at: iso(2000), operatorId: 'op2', action: 'conversation.reply', target: 'cv1' });
        await store.audit.append({ id: 'b3', at: iso(2000), operatorId: 'op1', action: 'conversation.reply', target: 'cv2' });
        await store.audit.append({ id: 'b0', at: iso(1000), operatorId: 'op1', action: 'login' });
        await store.audit.append({ id: 'b4', at: iso(3000), operatorId: 'cli', action: 'operator.add', target: 'op3', from: 'cli' });
        const ids = (p: { entries: { id: string }[] }) => p.entries.map((e) => e.id);

        const newest = await store.audit.page({ limit: 2, newestFirst: true });
        expect(ids(newest)).toEqual(['b4', 'b3']);
        expect(typeof newest.next).toBe('string');
        // Appended meanwhile, newer than everything: the next page is not shifted by it.
        await store.audit.append({ id: 'b5', at: iso(4000), operatorId: 'op1', action: 'logout' });
        const second = await store.audit.page({ limit: 2, newestFirst: true, after: newest.next! });
        expect(ids(second)).toEqual(['b1', 'b2']);
        const last = await store.audit.page({ limit: 2, newestFirst: true, after: second.next! });
        expect(last).toEqual({ entries: [{ id: 'b0', at: iso(1000), operatorId: 'op1', action: 'login' }] });

        const oldest = await store.audit.page({ limit: 3 });
        expect(ids(oldest)).toEqual(['b0', 'b2', 'b1']);
        expect(ids(await store.audit.page({ limit: 10, after: oldest.next! }))).toEqual(['b3', 'b4', 'b5']);
        expect((await store.audit.page({ limit: 6 })).next).toBeUndefined();

        // Filters: from inclusive, to exclusive; operator; action exactly.
        expect(ids(await store.audit.page({ limit: 10, from: iso(2000), to: iso(3000) }))).toEqual(['b2', 'b1', 'b3']);
        expect(ids(await store.audit.page({ limit: 10, operatorId: 'op1', newestFirst: true }))).toEqual(['b5', 'b3', 'b2', 'b0']);
        expect(ids(await store.audit.page({ limit: 10, action: 'conversation.reply' }))).toEqual(['b1', 'b3']);
        expect(ids(await store.audit.page({ limit: 10, action: 'conversation' }))).toEqual([]);
        const replies = await store.audit.page({ limit: 1, action: 'conversation.reply', operatorId: 'op1', from: iso(1500) });
        expect(ids(replies)).toEqual(['b3']);
        expect(replies.next).toBeUndefined();
        // Kept across reopening, cursors included; a cursor naming nothing gives nothing.
        store = await harness.reopen(store);
        expect(ids(await store.audit.page({ limit: 2, newestFirst: true, after: newest.next! }))).toEqual(['b1', 'b2']);
        expect(await store.audit.page({ limit: 5, after: '999999' })).toEqual({ entries: [] });
        expect(await store.audit.page({ limit: 5, after: 'nonsense' })).toEqual({ entries: [] });
      });
    });

    describe('export and import', () => {
      it('exports everything and imports it into an empty store, twice without duplicates', async () => {
        await accepted(store, makeInbound('m1'));
        await accepted(store, makeInbound('m2'));
        await store.conversations.commit(
          makeTurn({
            inbound: { channel: 'test', id: 'm1' },
            customer: makeCustomer(),
            conversations: [makeConversation('cv1', { ref: { nested: { a: [1, 2] } } })],
            case: makeCase('case1'),
            messages: [makeMessage('msg1'), makeMessage('msg2', { at: iso(5) })],
            outbox: [makeOutbox('o1'), makeOutbox('o2')],
          }),
        );
        await store.outbox.claim(T0, { test: 10 }, 1000);
        await store.outbox.complete('o1', { status: 'sent', platformId: 'p1', at: iso(1) });
        await store.directory.addOperator(makeOperator('op1', 'Marta'));
        await store.suggestions.add(makeSuggestion('s1'));
        await store.values.set('test', 'cursor', '42');
        await store.customerFiles.setTags('test:u1', ['vip'], iso(1));
        await store.customerFiles.addNote('test:u1', { id: 'n1', text: 'nota', operatorId: 'op1', at: iso(2) });
        await store.customerFiles.link('test:u1', 'other:1', iso(3));
        await store.savedReplies.put({ id: 'r1', language: 'it', shortcut: 'orari', title: 'Orari', text: 'Siamo aperti {business_hours}', createdBy: 'op1', createdAt: iso(0), updatedAt: iso(0) });
        const snapshot = await store.exportAll();
        expect(snapshot.customerFiles?.map((f) => f.customerId).sort()).toEqual(['other:1', 'test:u1']);
        expect(snapshot.savedReplies?.map((r) => r.id)).toEqual(['r1']);
        expect(snapshot).toMatchObject({ format: 'sportello-store', version: 1 });
        expect(snapshot.inbound.map((r) => [r.id, r.processedAt !== undefined])).toEqual([['m1', true], ['m2', false]]);

        await importedTwice(snapshot, async (target) => {
          const again = await target.exportAll();
          const strip = (s: StoreSnapshot) => ({ ...s, exportedAt: '', inbound: s.inbound.map((r) => ({ ...r, acceptedAt: '', processedAt: r.processedAt && 'x' })) });
          expect(strip(again)).toEqual(strip(snapshot));
          await expectSeen(target, makeInbound('m1'));
          expect((await target.customerFiles.get('test:u1')).notes.map((n) => n.text)).toEqual(['nota']);
          expect(await target.customerFiles.withTag('vip')).toEqual(['test:u1']);
          expect((await target.search.find({ text: 'anna', offset: 0, limit: 5 })).hits.map((h) => h.conversation.id)).toEqual(['cv1']);
          // imported messages are found by their words, as written ones are
          expect((await target.search.find({ text: 'msg2', offset: 0, limit: 5 })).hits.map((h) => h.conversation.id)).toEqual(['cv1']);
          expect((await target.inbox.pending(10)).map((m) => m.id)).toEqual(['m2']);
          await target.conversations.commit(makeTurn({ outbox: [makeOutbox('o3')] }));
          expect((await target.outbox.get('o3'))?.seq).toBe(3);
        });
      });

      it('refuses a document that is not a snapshot, naming what is wrong, and changes nothing', async () => {
        const bad = { format: 'sportello-store', version: 1, exportedAt: iso(0), customers: [{ id: 'x' }] } as unknown as StoreSnapshot;
        await expect(store.importAll(bad)).rejects.toThrow(/customers/);
        expect(await store.directory.getCustomer('x')).toBeUndefined();
      });
    });
  });
}
