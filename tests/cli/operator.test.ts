import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runOperator } from '../../src/cli/operator.js';
import { createFakeClock } from '../../src/core/ports.js';
import { verifyPassword } from '../../src/handoff/auth.js';
import { createLowdbStore, type LowdbStore } from '../../src/storage/lowdb/index.js';
import { capture } from '../helpers/capture.js';

const PASSWORD = 'tramonto-sul-po-42';

const io = capture;

describe('sportello operator', () => {
  let dir: string;
  let store: LowdbStore;
  const clock = createFakeClock('2026-11-23T09:00:00Z');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-operator-'));
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds an operator with the password piped on standard input, storing only a scrypt hash', async () => {
    const t = io(`${PASSWORD}\n`);
    const code = await runOperator(['add', '--name', 'Marta Rossi', '--initials', 'mr', '--role', 'admin'], t.io, { store, clock });
    expect(code).toBe(0);
    expect(t.out()).toMatch(/added admin Marta Rossi \(\^MR\)/);
    const op = await store.directory.findOperatorByName('Marta Rossi');
    expect(op).toMatchObject({ name: 'Marta Rossi', initials: 'MR', role: 'admin', createdAt: '2026-11-23T09:00:00.000Z' });
    expect(op!.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(PASSWORD, op!.passwordHash)).toBe(true);
    const onDisk = readFileSync(join(dir, 'store.json'), 'utf8');
    expect(onDisk).toContain('Marta Rossi');
    expect(onDisk).not.toContain(PASSWORD);
    expect(t.out() + t.err()).not.toContain(PASSWORD);
  });

  it('refuses a password shorter than 10 characters and saves nothing', async () => {
    const t = io('short-pw\n');
    const code = await runOperator(['add', '--name', 'Luca', '--initials', 'LB'], t.io, { store, clock });
    expect(code).toBe(1);
    expect(t.err()).toMatch(/at least 10 characters; nothing was saved/);
    expect(t.err()).not.toContain('short-pw');
    expect(await store.directory.listOperators()).toEqual([]);
  });

  it('explains every wrong option at once', async () => {
    const t = io(`${PASSWORD}\n`);
    const code = await runOperator(['add', '--name', '', '--initials', 'M1', '--role', 'boss'], t.io, { store, clock });
    expect(code).toBe(2);
    expect(t.err()).toMatch(/give a name with --name/);
    expect(t.err()).toMatch(/--initials must be 1 to 4 letters/);
    expect(t.err()).toMatch(/--role must be agent or admin/);
    expect(await store.directory.listOperators()).toEqual([]);
  });

  it('refuses a second operator with the same name', async () => {
    expect(await runOperator(['add', '--name', 'Marta', '--initials', 'MR'], io(`${PASSWORD}\n`).io, { store, clock })).toBe(0);
    const t = io(`${PASSWORD}\n`);
    expect(await runOperator(['add', '--name', 'Marta', '--initials', 'MA'], t.io, { store, clock })).toBe(1);
    expect(t.err()).toMatch(/already exists/);
    expect(await store.directory.listOperators()).toHaveLength(1);
  });

  it('lists operators with role and initials, never their hashes', async () => {
    await runOperator(['add', '--name', 'Marta', '--initials', 'MR', '--role', 'admin'], io(`${PASSWORD}\n`).io, { store, clock });
    await runOperator(['add', '--name', 'Luca', '--initials', 'LB'], io(`${PASSWORD}x\n`).io, { store, clock });
    const t = io('');
    expect(await runOperator(['list'], t.io, { store, clock })).toBe(0);
    const lines = t.out().trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+INITIALS\s+ROLE\s+ID\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual(
      expect.arrayContaining([
        ['Marta', 'MR', 'admin'],
        ['Luca', 'LB', 'agent'],
      ]),
    );
    expect(t.out()).not.toContain('scrypt');
  });

  it('changes an operator\'s role, and both the addition and the change are in the audit trail as the CLI\'s', async () => {
    expect(await runOperator(['add', '--name', 'Luca', '--initials', 'LB'], io(`${PASSWORD}\n`).io, { store, clock })).toBe(0);
    const luca = (await store.directory.findOperatorByName('Luca'))!;
    const t = io('');
    expect(await runOperator(['role', '--name', 'Luca', '--role', 'admin'], t.io, { store, clock })).toBe(0);
    expect(t.out()).toMatch(/Luca is now admin \(was agent\)/);
    expect((await store.directory.getOperator(luca.id))?.role).toBe('admin');
    // The same role again changes nothing and is not audited.
    expect(await runOperator(['role', '--name', 'Luca', '--role', 'admin'], io('').io, { store, clock })).toBe(0);
    const missing = io('');
    expect(await runOperator(['role', '--name', 'Nessuno', '--role', 'agent'], missing.io, { store, clock })).toBe(1);
    expect(missing.err()).toMatch(/no operator named "Nessuno"/);
    const wrong = io('');
    expect(await runOperator(['role', '--name', 'Luca', '--role', 'boss'], wrong.io, { store, clock })).toBe(2);
    expect(wrong.err()).toMatch(/--role must be agent or admin/);
    expect((await store.audit.list({ limit: 10 })).map((e) => [e.operatorId, e.action, e.target, e.from, e.at])).toEqual([
      ['cli', 'operator.add', luca.id, 'cli', '2026-11-23T09:00:00.000Z'],
      ['cli', 'operator.role_admin', luca.id, 'cli', '2026-11-23T09:00:00.000Z'],
    ]);
  });

  it('removes an operator, never the last admin, and audits it', async () => {
    expect(await runOperator(['add', '--name', 'Marta', '--initials', 'MR', '--role', 'admin'], io(`${PASSWORD}\n`).io, { store, clock })).toBe(0);
    expect(await runOperator(['add', '--name', 'Luca', '--initials', 'LB'], io(`${PASSWORD}\n`).io, { store, clock })).toBe(0);
    const marta = (await store.directory.findOperatorByName('Marta'))!;
    const luca = (await store.directory.findOperatorByName('Luca'))!;
    const last = io('');
    expect(await runOperator(['remove', '--name', 'Marta'], last.io, { store, clock })).toBe(1);
    expect(last.err()).toMatch(/Marta is the last admin: add another admin first; nothing was removed/);
    const demote = io('');
    expect(await runOperator(['role', '--name', 'Marta', '--role', 'agent'], demote.io, { store, clock })).toBe(1);
    expect(demote.err()).toMatch(/last admin/);
    const missing = io('');
    expect(await runOperator(['remove', '--name', 'Nessuno'], missing.io, { store, clock })).toBe(1);
    expect(missing.err()).toMatch(/no operator named "Nessuno"/);
    expect(await runOperator(['remove'], io('').io, { store, clock })).toBe(2);
    const t = io('');
    expect(await runOperator(['remove', '--name', 'Luca'], t.io, { store, clock })).toBe(0);
    expect(t.out()).toMatch(/removed agent Luca \(id op_[^)]+\): they can no longer log in/);
    expect((await store.directory.listOperators()).map((o) => o.name)).toEqual(['Marta']);
    expect((await store.audit.list({ limit: 10 })).map((e) => [e.operatorId, e.action, e.target])).toEqual([
      ['cli', 'operator.add', marta.id],
      ['cli', 'operator.add', luca.id],
      ['cli', 'operator.remove', luca.id],
    ]);
  });

  it('prints its usage for an unknown subcommand', async () => {
    const t = io('');
    expect(await runOperator(['promote'], t.io, { store, clock })).toBe(2);
    expect(t.err()).toMatch(/usage: sportello operator add/);
  });
});
