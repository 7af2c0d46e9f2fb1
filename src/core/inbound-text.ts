/**
 * @module core/inbound-text
 * What comes from outside is text a person wrote: control characters (C0 but tab, line feed and
 * carriage return; DEL) are nothing anyone types, and NUL is refused by PostgreSQL (in text and
 * jsonb), so a message carrying one could never be stored: refused at every delivery, answered by
 * no one. Every inbound message, whatever its channel, is taken without them, before it is
 * recorded (pipeline `accept`, listening's `hear`).
 */
import type { InboundMessage } from './types.js';

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** The text without control characters (the same string when it has none). */
export function withoutControlCharacters(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, '') : text;
}

/** The message with its text, payload and the customer's name and handle free of control characters (the same object when they have none). */
export function cleanInbound(msg: InboundMessage): InboundMessage {
  const { text, payload, customer } = msg;
  const dirty = CONTROL.test(text) || (payload !== undefined && CONTROL.test(payload)) || (customer.name !== undefined && CONTROL.test(customer.name)) || (customer.handle !== undefined && CONTROL.test(customer.handle));
  if (!dirty) return msg;
  return {
    ...msg,
    text: withoutControlCharacters(text),
    ...(payload !== undefined ? { payload: withoutControlCharacters(payload) } : {}),
    customer: {
      ...customer,
      ...(customer.name !== undefined ? { name: withoutControlCharacters(customer.name) } : {}),
      ...(customer.handle !== undefined ? { handle: withoutControlCharacters(customer.handle) } : {}),
    },
  };
}
