import { describe, expect, it } from '@jest/globals';
import { pointOf } from '../../src/pipeline/courtesy.js';

describe('a courtesy that opens an objection', () => {
  it.each([
    ['grazie ma non ho capito', 'non ho capito'],
    ['ok grazie, però il problema resta', 'il problema resta'],
    ['grazie per la risposta ma non mi è servito', 'non mi è servito'],
    ["grazie dell'aiuto ma non funziona", 'non funziona'],
    ['grazie. Ma quando arriva?', 'quando arriva?'],
    ["Thanks, but that doesn't answer my question", "that doesn't answer my question"],
    ['thanks for the info, but I still have a problem', 'I still have a problem'],
    ['Ok but how much is shipping?', 'how much is shipping?'],
  ])('%s → read as "%s"', (text, point) => {
    expect(pointOf(text)).toBe(point);
  });

  it.each(['grazie mille', 'grazie ma no', 'ma grazie', 'grazie mamma', 'ok butter', 'quali sono gli orari? grazie ma non subito', 'thank you so much'])('leaves "%s" whole', (text) => {
    expect(pointOf(text)).toBe(text);
  });
});
