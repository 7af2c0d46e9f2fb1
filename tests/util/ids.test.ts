import { describe, expect, it } from '@jest/globals';
import { newId } from '../../src/util/ids.js';

describe('newId', () => {
  it('gives prefix, base-36 time and 48 random bits', () => {
    expect(newId('cv')).toMatch(/^cv_[0-9a-z]+_[0-9a-f]{12}$/);
  });

  it('never repeats across many draws (well past one refill of its random pool)', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('msg'));
    expect(new Set(ids).size).toBe(ids.length);
    const randomParts = new Set(ids.map((id) => id.split('_')[2]));
    expect(randomParts.size).toBe(ids.length);
  });
});
