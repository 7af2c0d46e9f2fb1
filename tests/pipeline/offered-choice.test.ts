import { describe, expect, it } from '@jest/globals';
import { CHOICE_MINUTES, typedChoice, yesToSeveral } from '../../src/pipeline/offered-choice.js';

const at = '2026-11-24T10:00:00.000Z';
const now = new Date('2026-11-24T10:02:00.000Z');
const two = { lastOffer: { at, options: [{ title: 'Pagamento rifiutato', payload: 'faq:pagamento-rifiutato' }, { title: 'Pagamento a rate', payload: 'faq:pagamento-a-rate' }] } };
const one = { lastOffer: { at, options: [{ title: 'Read bill', payload: 'faq:read-bill' }] } };

describe('a choice typed among the options offered', () => {
  it.each([
    ['2', 'faq:pagamento-a-rate'],
    ['1', 'faq:pagamento-rifiutato'],
    ['2.', 'faq:pagamento-a-rate'],
    ['la seconda', 'faq:pagamento-a-rate'],
    ['la prima, grazie', 'faq:pagamento-rifiutato'],
    ["l'ultima", 'faq:pagamento-a-rate'],
    ['opzione 2', 'faq:pagamento-a-rate'],
    ['the first one please', 'faq:pagamento-rifiutato'],
    ['2nd', 'faq:pagamento-a-rate'],
    ['pagamento a rate', 'faq:pagamento-a-rate'],
    ['Pagamento a Rate!', 'faq:pagamento-a-rate'],
    // On X the mention opens the reply.
    ['@bottegarossi la seconda', 'faq:pagamento-a-rate'],
  ])('"%s" picks %s', (text, payload) => {
    expect(typedChoice(text, two, now)).toBe(payload);
  });

  it.each(['sì', 'si', 'Sì!', 'esatto', 'sì, proprio quella', 'yes', 'yes please', 'yep', 'that one', '@bottegarossi sì'])('"%s" picks the only option offered', (text) => {
    expect(typedChoice(text, one, now)).toBe('faq:read-bill');
  });

  it('does not take "sì" for a choice when several options were offered', () => {
    expect(typedChoice('sì', two, now)).toBeUndefined();
    expect(typedChoice('yes', two, now)).toBeUndefined();
  });

  it.each(['3', '0', 'la terza', 'no', 'e con PayPal?', 'il 2 ottobre è arrivato il pacco', 'pagamento', 'ho pagato 2 volte', '12345'])('"%s" is not a choice: it is read as a message', (text) => {
    expect(typedChoice(text, two, now)).toBeUndefined();
  });

  it('forgets the options after a while, and without any offered', () => {
    const later = new Date(new Date(at).getTime() + (CHOICE_MINUTES + 1) * 60_000);
    expect(typedChoice('2', two, later)).toBeUndefined();
    expect(typedChoice('2', {}, now)).toBeUndefined();
    expect(typedChoice('sì', { lastOffer: { at, options: [] } }, now)).toBeUndefined();
  });
});

describe('a bare "yes" to several options', () => {
  it('is told apart: not a choice, and not an acknowledgement to fall silent at', () => {
    expect(yesToSeveral('sì', two, now)).toBe(true);
    expect(yesToSeveral('yes please', two, now)).toBe(true);
    expect(yesToSeveral('sì', one, now)).toBe(false);
    expect(yesToSeveral('la seconda', two, now)).toBe(false);
    expect(yesToSeveral('sì', {}, now)).toBe(false);
  });
});
