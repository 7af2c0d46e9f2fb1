/**
 * A visitor's name with bidirectional controls (through the real web chat API, read back through
 * the operator API): before, "\u202E" kept in the name turned around what the console showed
 * after it on the queue row, and a saved reply's "Ciao {customer_name}" carried it into a reply.
 * Now names and handles are kept without them; a name made only of them is no name.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newSession, postMessage } from '../channels/webchat/helpers.js';
import { closeSharedKnowledge, logins, startApiApp, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

describe('customer names with bidirectional controls', () => {
  let t: ApiApp;
  let anna: Client;
  beforeEach(async () => {
    t = await startApiApp();
    [anna] = await logins(t.base, 'Anna');
  });
  afterEach(async () => {
    await t.close();
  });

  async function visitorWrites(name: string): Promise<{ id: string; customer: { name: string | null } }> {
    const { session, visitor } = await newSession(t.base);
    expect((await postMessage(t.base, { session, name, text: 'voglio parlare con un operatore' })).status).toBe(202);
    await t.app.pipeline.idle();
    const found = await anna.get('/conversations?view=all');
    const rows = found.body.conversations as Array<{ id: string; customer: { id: string; name: string | null } }>;
    const row = rows.find((r) => r.customer.id === `webchat:${visitor}`);
    expect(row).toBeDefined();
    return row!;
  }

  it('keeps the name without them, in the list, the conversation and a saved reply filled with it', async () => {
    const row = await visitorWrites('Mario \u202Eissor\u202C Rossi\u2067');
    expect(row.customer.name).toBe('Mario issor Rossi');
    const detail = await anna.get(`/conversations/${row.id}`);
    expect(JSON.stringify(detail.body)).not.toMatch(BIDI);
    const saved = await anna.post('/saved-replies', { language: 'it', shortcut: 'ciao', text: 'Ciao {customer_name}, eccomi!' });
    expect(saved.status).toBe(200);
    const id = (saved.body.saved_reply as { id: string }).id;
    const rendered = await anna.get(`/saved-replies/${id}/render?conversation_id=${row.id}`);
    expect(rendered.body.text).toBe('Ciao Mario issor Rossi, eccomi!');
  });

  it('takes a name made only of them as no name', async () => {
    const row = await visitorWrites('\u202E\u2066');
    expect(row.customer.name).toBeNull();
  });
});
