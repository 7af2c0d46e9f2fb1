/**
 * Issue 22, Done means: on both stores, a customer's conversations on two linked channels
 * (Messenger and the web chat, linked by an operator in the desk) are exported with every message,
 * erased, and then none of the customer's texts or identifiers is left in the store (the
 * lowdb file and its journal; every PostgreSQL table), the outbox or the server's logs, while
 * `sportello report` for the period gives the same figures. Real processes: the server is
 * `bin/sportello.js start`, each command `bin/sportello.js customer …` (through the running
 * server's admin socket on the embedded store).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { CustomerExport } from '../../src/handoff/customer-rights.js';
import {
  cli,
  createTestDatabase,
  deliver,
  graphAndDataDir,
  instanceEnv,
  login,
  operatorPost,
  repliesTo,
  signedDelivery,
  startInstance,
  waitUntil,
  type DeploymentEnv,
} from './harness.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';

const PASSWORD = 'tramonto-sul-po-42';

const cleanups = cleanupsAfterEach(120_000);

/** Everything a PostgreSQL database holds, as text (every row of every table of the schema). */
async function dumpDatabase(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    let all = '';
    for (const { table_name } of tables.rows) all += JSON.stringify((await client.query(`SELECT * FROM "${table_name}"`)).rows);
    return all;
  } finally {
    await client.end();
  }
}

/** The report as JSON, without when it was made. */
async function report(env: Record<string, string>): Promise<unknown> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  // Two days on each side: the dates are the team's (TIMEZONE), not UTC's.
  const r = await cli(['report', '--from', day(-2), '--to', day(2), '--format', 'json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
  delete parsed.generated_at;
  expect(parsed.inbound).toBeGreaterThan(0);
  return parsed;
}

describe.each(['lowdb', 'postgres'] as const)("a customer's data rights on %s, while the server runs", (kind) => {
  it('exports every message of two linked channels, erases them everywhere, and the report still adds up', async () => {
    const { graph, data } = await graphAndDataDir(cleanups);
    let databaseUrl: string | undefined;
    if (kind === 'postgres') {
      const db = await createTestDatabase('sportello_rights');
      cleanups.push(() => db.drop());
      databaseUrl = db.url;
    }
    const deployment: DeploymentEnv = {
      ...(databaseUrl ? { databaseUrl } : { dataFile: data.dataFile }),
      graphOrigin: graph.origin,
      extra: { LOG_LEVEL: 'debug' },
    };
    const env = instanceEnv(deployment, 0);
    const server = await startInstance('server', deployment, { timeoutMs: 60_000 });
    cleanups.push(() => server.stop());
    expect((await cli(['operator', 'add', '--name', 'Admin', '--initials', 'AD', '--role', 'admin'], env, `${PASSWORD}\n`)).code).toBe(0);

    // Anna on Messenger, and on the web chat.
    const psid = 'psid-anna-77310';
    const texts = ['Ciao, sono Anna Verdi: il mio ordine 55667788 non è arrivato', 'Potete scrivermi a anna.verdi@example.com?'];
    expect(await deliver(server.url, signedDelivery(psid, texts[0]!, 'mid.anna.1'))).toBe(200);
    expect(await waitUntil(() => repliesTo(graph, psid).length > 0, 30_000)).toBe(true);
    const started = await fetch(`${server.url}/chat/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { session, visitor } = (await started.json()) as { session: string; visitor: string };
    const posted = await fetch(`${server.url}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session, text: texts[1], name: 'Anna Verdi' }) });
    expect(posted.status).toBe(202);
    // Bob, whose data stays.
    expect(await deliver(server.url, signedDelivery('psid-bob-99', 'quali sono i vostri orari?', 'mid.bob.1'))).toBe(200);
    expect(await waitUntil(() => repliesTo(graph, 'psid-bob-99').length > 0, 30_000)).toBe(true);

    const messengerId = `messenger:${psid}`;
    const webchatId = `webchat:${visitor}`;
    expect(await waitUntil(async () => (await cli(['customer', 'find', visitor], env)).code === 0, 30_000)).toBe(true);
    const found = await cli(['customer', 'find', 'anna-773'], env);
    expect(found.code).toBe(0);
    expect(found.stdout.split('\t')[0]).toBe(messengerId);
    expect(found.stdout.trim().split('\t')).toHaveLength(4);
    const byName = await cli(['customer', 'find', 'verdi'], env);
    expect(byName.stdout).toContain(`${webchatId}\twebchat\tAnna Verdi\t`);

    // An operator links the two records of one person in the desk.
    const admin = await login(server.url, 'Admin', PASSWORD);
    expect((await operatorPost(admin, `/customers/${encodeURIComponent(messengerId)}/links`, { customer_id: webchatId })).status).toBe(200);
    const before = await report(env);

    // The export holds both records and every message.
    const out = join(data.dir, 'anna.json');
    const exported = await cli(['customer', 'export', messengerId, '--out', out], env);
    expect(exported.stderr).toMatch(/exported 2 customer record\(s\)/);
    expect(exported.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CustomerExport;
    expect(doc.format).toBe('sportello-customer-export');
    expect(doc.records.map((r) => r.customer.id).sort()).toEqual([messengerId, webchatId].sort());
    const exportedTexts = doc.records.flatMap((r) => r.messages.map((m) => m.text));
    for (const t of texts) expect(exportedTexts).toContain(t);
    expect(doc.records.flatMap((r) => r.messages).filter((m) => m.direction === 'out').length).toBeGreaterThan(0);
    expect(doc.keptAfterErasure.length).toBeGreaterThan(0);

    // Without --yes and without a terminal, erase refuses.
    const refused = await cli(['customer', 'erase', messengerId], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/without confirmation/);
    expect((await cli(['customer', 'find', 'anna-773'], env)).code).toBe(0);

    const erased = await cli(['customer', 'erase', messengerId, '--yes'], env);
    expect(erased.stderr).toBe('');
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain(webchatId);
    expect((await cli(['customer', 'find', 'anna'], env)).code).toBe(1);
    expect((await cli(['customer', 'find', 'verdi'], env)).code).toBe(1);

    // The report for the period gives the same figures.
    expect(await report(env)).toEqual(before);

    // Nothing of hers anywhere: the store (file and journal, or every table) and the logs.
    let held: string;
    if (databaseUrl) {
      held = await dumpDatabase(databaseUrl);
    } else {
      await server.stop();
      held = ['', '.journal', '.journal.prev'].map((s) => `${data.dataFile}${s}`).filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('\n');
    }
    const hers = [psid, visitor, 'Anna', 'Verdi', '55667788', 'anna.verdi', 'mid.anna.1', session];
    for (const h of hers) expect(held).not.toContain(h);
    expect(held).toContain('psid-bob-99');
    for (const h of hers) expect(server.output()).not.toContain(h);
  }, 240_000);
});
