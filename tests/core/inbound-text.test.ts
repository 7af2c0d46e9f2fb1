import { describe, expect, it } from '@jest/globals';
import { cleanInbound, cleanText } from '../../src/core/inbound-text.js';
import type { InboundMessage } from '../../src/core/types.js';

const msg = (text: string, extra: Partial<InboundMessage> = {}): InboundMessage => ({
  channel: 'webchat',
  id: 'm1',
  visibility: 'private',
  customer: { platformId: 'v1' },
  text,
  sentAt: '2026-12-06T10:00:00.000Z',
  ...extra,
});

describe('inbound text without control characters', () => {
  it('drops NUL, bell, escape and DEL, and keeps tabs, new lines, accents and emoji', () => {
    expect(cleanText('a\u0000b\u0007c\u001b[31md\u007f')).toBe('abc[31md');
    expect(cleanText('riga 1\r\nriga\t2 è 👍')).toBe('riga 1\r\nriga\t2 è 👍');
  });

  it('replaces half a surrogate pair (no character at all) and keeps whole pairs', () => {
    expect(cleanText('a\ud800b\udc00c 👍')).toBe('a\ufffdb\ufffdc 👍');
    expect(cleanText('\ud83d')).toBe('\ufffd');
  });

  it('cleans text, payload, name and handle, and hands back the same message when nothing is to clean', () => {
    const clean = msg('ciao');
    expect(cleanInbound(clean)).toBe(clean);
    const cleaned = cleanInbound(msg('ci\u0000ao', { payload: 'faq:x\u0000', customer: { platformId: 'v1', name: 'An\u0000na', handle: '@a\u0001b' } }));
    expect(cleaned).toEqual(msg('ciao', { payload: 'faq:x', customer: { platformId: 'v1', name: 'Anna', handle: '@ab' } }));
  });

  it('takes bidirectional controls out of names and handles only; a name made of nothing else is no name', () => {
    const cleaned = cleanInbound(msg('\u202Bمرحبا\u202C', { customer: { platformId: 'v1', name: 'Mario \u202Eissor\u202C\u2066', handle: 'mr\u2069' } }));
    expect(cleaned).toEqual(msg('\u202Bمرحبا\u202C', { customer: { platformId: 'v1', name: 'Mario issor', handle: 'mr' } }));
    expect(cleanInbound(msg('ciao', { customer: { platformId: 'v1', name: '\u202E\u2066' } })).customer).toEqual({ platformId: 'v1' });
  });
});
