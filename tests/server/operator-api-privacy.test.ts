/**
 * Private data never goes public, operators' replies included: through the real operator API, a
 * public reply that repeats what the customer gave (their email, phone, IBAN) or that holds an
 * order number, a card, a codice fiscale or a customer code is refused (422) and nothing is sent
 * or stored; the brand's own address, and the same words in private, go out.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { closeSharedKnowledge, logins, startApiApp, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

describe('operator API: private data in public replies', () => {
  let t: ApiApp;
  let marta: Client;
  let publicId: string;
  beforeEach(async () => {
    t = await startApiApp();
    [marta] = await logins(t.base, 'Marta');
    // A public post asking for a person, then the same customer's details in private.
    const pub = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { visibility: 'public', threadId: 'post-1', id: 'pub-1' }));
    expect(pub.action).toBe('escalate');
    publicId = pub.conversation!.id;
    await t.app.pipeline.receive(t.message('la mia mail è Mario.Rossi@example.com, cell +39 347 123 4567, IBAN IT60 X054 2811 1010 0000 0123 456', { id: 'dm-1' }));
    expect((await marta.post(`/conversations/${publicId}/claim`, {})).status).toBe(200);
    await t.app.sender.drain();
  });
  afterEach(async () => {
    await t.close();
  });

  const publicTexts = () => t.channel.sent.filter((s) => s.visibility === 'public').map((s) => s.reply.text);

  it.each([
    ['the customer’s email', 'Ciao! Ti abbiamo scritto a mario.rossi@example.com', 'email'],
    ['the customer’s phone, written another way', 'Ti richiamiamo al 3471234567 entro oggi', 'phone'],
    ['the customer’s IBAN', 'Rimborso disposto su IT60X0542811101000000123456', 'IBAN'],
    ['an order number', 'Il tuo ordine BR-1234567 è partito ieri', 'order number'],
    ['a card number', 'Abbiamo stornato la carta 4111 1111 1111 1111', 'card number'],
  ])('refuses a public reply with %s, sending and storing nothing', async (_what, text, kind) => {
    const before = (await t.app.store.conversations.listMessages({ conversationId: publicId })).length;
    const res = await marta.post(`/conversations/${publicId}/reply`, { text, visibility: 'public' });
    expect(res.status).toBe(422);
    expect(res.body.error).toContain(kind);
    expect(res.body.error).toMatch(/never written in public/);
    // The answer names the kind, never the value.
    expect(JSON.stringify(res.body)).not.toMatch(/mario\.rossi|347|IT60|1234567|4111/i);
    await t.app.sender.drain();
    expect(publicTexts().some((s) => s.includes(text.split(' ').at(-1)!))).toBe(false);
    expect(publicTexts().join('\n')).not.toMatch(/mario\.rossi|3471234567|IT60X|BR-1234567|4111 1111/i);
    expect((await t.app.store.conversations.listMessages({ conversationId: publicId })).length).toBe(before);
  });

  it('sends the brand’s own address in public, and the customer’s details in private', async () => {
    const brand = await marta.post(`/conversations/${publicId}/reply`, { text: 'Scrivici pure ad assistenza@bottegarossi.it', visibility: 'public' });
    expect(brand.status).toBe(200);
    const dm = await marta.post(`/conversations/${publicId}/reply`, { text: 'Ti abbiamo scritto a mario.rossi@example.com', visibility: 'private' });
    expect(dm.status).toBe(200);
    await t.app.sender.drain();
    expect(publicTexts()).toContain('Scrivici pure ad assistenza@bottegarossi.it ^MR');
    expect(t.channel.sent.some((s) => s.visibility === 'private' && s.reply.text === 'Ti abbiamo scritto a mario.rossi@example.com')).toBe(true);
  });
});
