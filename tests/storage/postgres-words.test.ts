import { describe, expect, it } from '@jest/globals';
import { customerWords, messageWords } from '../../src/storage/postgres/words.js';

describe("the shared store's search words", () => {
  it('are the folded words of the text, once each, separated by single spaces', () => {
    expect(messageWords('Perché il mio ordine BR-123 non è arrivato? PERCHÉ!')).toBe('perche il mio ordine br 123 non e arrivato');
    expect(messageWords('')).toBe('');
    expect(messageWords(undefined)).toBe('');
    expect(messageWords('?! …')).toBe('');
    expect(customerWords({ name: 'Anna Rossi', handle: 'annar' })).toBe('anna rossi annar');
    expect(customerWords({})).toBe('');
  });

  it('leave out a word longer than a tsvector takes (2,047 bytes), counted in UTF-8', () => {
    expect(messageWords(`ciao ${'a'.repeat(3000)} mondo`)).toBe('ciao mondo');
    expect(messageWords(`${'ł'.repeat(1100)} ok`)).toBe('ok');
    expect(messageWords(`${'a'.repeat(2047)} ok`)).toBe(`${'a'.repeat(2047)} ok`);
  });
});
