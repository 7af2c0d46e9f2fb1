/** Test helper: an outbox item as the sender hands it to a channel adapter. */
import type { OutboxItem } from '../../src/core/types.js';

/** An item on its first attempt (a bot's text reply of conversation `cv_1`); the channel's test gives the rest. */
export function sendingItem(item: Pick<OutboxItem, 'channel' | 'visibility' | 'recipient'> & Partial<OutboxItem>): OutboxItem {
  return {
    id: 'out_1',
    conversationId: 'cv_1',
    reply: { kind: 'text', text: 'Ciao!' },
    author: { kind: 'bot' },
    seq: 1,
    status: 'sending',
    attempts: 1,
    notBefore: 0,
    createdAt: '2026-11-23T10:00:00.000Z',
    ...item,
  };
}
