/**
 * `node --import tsx bench/storage/run.ts`: turn throughput, file size, read latency and memory
 * of the lowdb store at several history sizes, and turn/claim throughput of the PostgreSQL store
 * (throw-away database on postgres://postgres@127.0.0.1:5432, or SPORTELLO_TEST_PG_URL).
 * Writes bench/results/storage.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Store, TurnRecord } from '../../src/core/ports.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createPostgresStore } from '../../src/storage/postgres/index.js';
import { emptySnapshot, type StoreSnapshot } from '../../src/storage/snapshot.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TEXT = 'Buongiorno, vorrei sapere quando arriva il mio ordine: l’ho fatto la settimana scorsa e non ho ancora notizie.';

function turn(i: number, conversations: number): TurnRecord {
  const c = i % conversations;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  const customerId = `test:u${c}`;
  return {
    // Filled in with the revisions read before the commit (timeTurns).
    expect: { conversations: {}, cases: {} },
    inbound: { channel: 'test', id: `in${i}` },
    customer: { id: customerId, channel: 'test', platformId: `u${c}`, firstSeenAt: at, lastSeenAt: at },
    conversations: [{ id: `cv${c}`, key: `test:private:u${c}`, channel: 'test', visibility: 'private', customerId, caseId: `case${c}`, state: 'bot', missStreak: 0, flags: [], createdAt: at, updatedAt: at }],
    case: { id: `case${c}`, customerId, status: 'open', conversationIds: [`cv${c}`], openedAt: at },
    messages: [
      { id: `m${i}a`, conversationId: `cv${c}`, caseId: `case${c}`, direction: 'in', author: { kind: 'customer' }, text: TEXT, visibility: 'private', at },
      { id: `m${i}b`, conversationId: `cv${c}`, caseId: `case${c}`, direction: 'out', author: { kind: 'bot' }, text: TEXT, visibility: 'private', at, action: 'answer', faqId: 'spedizioni' },
    ],
    outbox: [{ id: `o${i}`, conversationId: `cv${c}`, channel: 'test', visibility: 'private', recipient: `u${c}`, reply: { kind: 'text', text: TEXT }, author: { kind: 'bot' }, status: 'pending', attempts: 0, notBefore: 0, createdAt: at }],
    events: [],
  };
}

/** A history of `turns` turns as a snapshot (2 messages and 1 sent outbox item per turn). */
function history(turns: number, conversations: number): StoreSnapshot {
  const s = emptySnapshot(new Date().toISOString());
  const seq = new Map<string, number>();
  for (let i = 0; i < turns; i++) {
    const t = turn(1_000_000 + i, conversations);
    if (i < conversations) {
      s.customers.push(t.customer!);
      s.conversations.push(...t.conversations);
      s.cases.push(t.case!);
    }
    s.messages.push(...t.messages);
    for (const o of t.outbox) {
      const n = (seq.get(o.conversationId) ?? 0) + 1;
      seq.set(o.conversationId, n);
      s.outbox.push({ ...o, seq: n, status: 'sent', platformId: `p${i}` });
    }
    s.inbound.push({ channel: 'test', id: t.inbound!.id, acceptedAt: t.conversations[0]!.createdAt, processedAt: t.conversations[0]!.createdAt });
  }
  return s;
}

async function timeTurns(store: Store, count: number, concurrency: number, offset: number, conversations: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        // As a turn does: under its conversation's lock, read the context, commit with its revisions.
        const t = turn(offset + i, conversations);
        const key = t.conversations[0]!.key;
        await store.conversations.withLock(key, async () => {
          const context = await store.conversations.loadContext({ key, customerId: t.customer!.id });
          await store.conversations.commit({ ...t, expect: context.revisions });
        });
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

async function timeReads(store: Store, conversations: number, count = 2000): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const c = i % conversations;
    await store.conversations.findByKey(`test:private:u${c}`);
    await store.conversations.listMessages({ conversationId: `cv${c}` });
  }
  return ((performance.now() - start) / count) * 1000;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const lines: string[] = [];

// ── lowdb ──
lines.push('## Embedded store (lowdb)', '');
lines.push('Each turn: its context read (conversations.loadContext), then customer + conversation + case upserts, 2 messages, 1 outbox item, inbound marked processed, committed with the revisions read; every write fsync\'ed.');
lines.push('History: 2 messages and 1 sent outbox item per past turn, over 1,000 conversations. Reads: findConversationByKey + listMessages of one conversation.', '');
lines.push('| history (turns) | file MB | turns/s, 1 at a time | turns/s, 50 concurrent | file writes for 2,000 concurrent turns | read µs | heap MB |');
lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of [0, 10_000, 100_000]) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sportello-bench-'));
  const file = path.join(dir, 'sportello.json');
  const store = createLowdbStore({ file });
  await store.init();
  if (size) await store.importAll(history(size, 1000));
  await store.flush();
  const sequential = await timeTurns(store, size >= 100_000 ? 50 : 300, 1, 0, 1000);
  const writesBefore = store.fileWrites();
  const concurrent = await timeTurns(store, 2000, 50, 10_000, 1000);
  const writes = store.fileWrites() - writesBefore;
  const readUs = await timeReads(store, 1000);
  global.gc?.();
  const heap = process.memoryUsage().heapUsed / 1e6;
  const mb = statSync(file).size / 1e6;
  lines.push(`| ${fmt(size)} | ${fmt(mb, 1)} | ${fmt(sequential)} | ${fmt(concurrent)} | ${fmt(writes)} | ${fmt(readUs, 1)} | ${fmt(heap)} |`);
  process.stderr.write(`lowdb ${size}: ${lines.at(-1)}\n`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

// ── PostgreSQL ──
const adminUrl = process.env.SPORTELLO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `sportello_bench_${randomBytes(4).toString('hex')}`;
const adminClient = new pg.Client({ connectionString: adminUrl });
await adminClient.connect();
await adminClient.query(`CREATE DATABASE ${database}`);
try {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  const store = createPostgresStore({ url: u.toString() });
  await store.init();
  const sequential = await timeTurns(store, 300, 1, 0, 1000);
  const concurrent = await timeTurns(store, 3000, 20, 10_000, 1000);
  const readUs = await timeReads(store, 1000, 1000);
  let claimed = 0;
  const start = performance.now();
  for (;;) {
    const items = await store.outbox.claim(Date.now(), { test: 50 }, 60_000);
    if (!items.length) break;
    claimed += items.length;
    await Promise.all(items.map((o) => store.outbox.complete(o.id, { status: 'sent', platformId: 'p', at: new Date().toISOString() })));
  }
  const claimRate = claimed / ((performance.now() - start) / 1000);
  await store.close();
  lines.push('', '## Shared store (PostgreSQL)', '', `PostgreSQL ${(await adminClient.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version} on the same machine, default settings.`, '');
  lines.push('| turns/s, 1 at a time | turns/s, 20 concurrent | read µs | outbox claim + complete, items/s |', '| ---: | ---: | ---: | ---: |');
  lines.push(`| ${fmt(sequential)} | ${fmt(concurrent)} | ${fmt(readUs, 1)} | ${fmt(claimRate)} (${fmt(claimed)} items) |`);
  process.stderr.write(`postgres: ${lines.at(-1)}\n`);
} finally {
  await adminClient.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await adminClient.end();
}

const cpus = os.cpus();
const header = [
  '# Storage benchmark',
  '',
  `Produced by \`node --import tsx bench/storage/run.ts\` on ${new Date().toISOString()} — ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, Node ${process.version}.`,
  'One process, the machine shared with other work: treat figures as orders of magnitude.',
  '',
];
await writeFile(path.join(here, '..', 'results', 'storage.md'), `${[...header, ...lines].join('\n')}\n`);
process.stderr.write('wrote bench/results/storage.md\n');
