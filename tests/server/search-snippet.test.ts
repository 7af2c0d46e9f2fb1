import { describe, expect, it } from '@jest/globals';
import { snippet } from '../../src/server/operator-api/desk-routes.js';

describe('what a search result shows of the message that matched', () => {
  it('keeps a short message whole', () => {
    expect(snippet('La mia fattura è sbagliata', ['fattur'])).toBe('La mia fattura è sbagliata');
  });

  it('cuts a long message around the first matched word, at spaces, and says where it cut', () => {
    const text = `${'parole prima '.repeat(30)}il rimborso dell'ordine non è arrivato ${'e poi ancora altro '.repeat(30)}`;
    const shown = snippet(text, ['rimbor'], 120);
    expect(shown.startsWith('…')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown).toContain('il rimborso dell');
    expect(shown.length).toBeLessThanOrEqual(122);
    expect(shown.slice(1, 2)).not.toBe(' ');
  });

  it('matches folded words (accents, case) and falls back to the start when no word matches', () => {
    const text = `${'x '.repeat(150)}PERCHÉ non funziona ${'y '.repeat(150)}`;
    expect(snippet(text, ['perche'], 80)).toContain('PERCHÉ non funziona');
    expect(snippet('a'.repeat(300), ['zzz'], 50)).toBe(`${'a'.repeat(49)}…`);
  });
});
