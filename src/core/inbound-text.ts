/**
 * @module core/inbound-text
 * What comes from outside is text a person wrote: control characters (C0 but tab, line feed and
 * carriage return; DEL) are nothing anyone types, and a half of a UTF-16 surrogate pair is no
 * character at all. PostgreSQL refuses both NUL and lone surrogates (in text and jsonb), so a
 * message carrying one could never be stored: refused at every delivery, answered by no one.
 * Every inbound message, whatever its channel, is taken without control characters and with each
 * lone surrogate replaced by U+FFFD, before it is recorded (pipeline `accept`, listening's `hear`).
 *
 * A customer's name and handle also lose the bidirectional embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069): a name is shown inline, beside other words (the console's queue
 * row, a saved reply's "Ciao {customer_name}" sent in public), and an override that is never
 * closed there turned what followed it around ("‮" + "ossoR" reads "Rosso", and the rest of the
 * reply after the name read backwards). Names written right to left need none of them.
 */
import type { InboundMessage } from './types.js';

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** Node 20 has String.prototype.isWellFormed / toWellFormed (ES2024); the project's lib is ES2023. */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** True when the text has a character to take out or to replace. */
const needsCleaning = (text: string): boolean => CONTROL.test(text) || !(text as unknown as WellFormed).isWellFormed();

const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const nameNeedsCleaning = (name: string): boolean => needsCleaning(name) || BIDI_CONTROL.test(name);

/** A customer's name or handle as kept: clean text, without bidirectional controls (the same string when it has none). */
export function cleanName(name: string): string {
  return nameNeedsCleaning(name) ? cleanText(name).replace(BIDI_CONTROLS, '') : name;
}

/** The text without control characters and with lone surrogates replaced (the same string when it has neither). */
export function cleanText(text: string): string {
  if (!needsCleaning(text)) return text;
  return (text.replace(CONTROLS, '') as unknown as WellFormed).toWellFormed();
}

/** The message with its text, payload and the customer's name and handle cleaned (the same object when they need nothing). */
export function cleanInbound(msg: InboundMessage): InboundMessage {
  const { text, payload, customer } = msg;
  const dirty =
    needsCleaning(text) ||
    (payload !== undefined && needsCleaning(payload)) ||
    (customer.name !== undefined && nameNeedsCleaning(customer.name)) ||
    (customer.handle !== undefined && nameNeedsCleaning(customer.handle));
  if (!dirty) return msg;
  return {
    ...msg,
    text: cleanText(text),
    ...(payload !== undefined ? { payload: cleanText(payload) } : {}),
    customer: withCleanNames(customer),
  };
}

/** The customer with name and handle cleaned; one that was nothing but controls is left out (no name). */
function withCleanNames(customer: InboundMessage['customer']): InboundMessage['customer'] {
  const { name, handle, ...rest } = customer;
  const cleanedName = name === undefined ? '' : cleanName(name);
  const cleanedHandle = handle === undefined ? '' : cleanName(handle);
  return { ...rest, ...(cleanedName ? { name: cleanedName } : {}), ...(cleanedHandle ? { handle: cleanedHandle } : {}) };
}
