/**
 * @module util/logger
 * pino, with private data kept out: message texts are never logged in clear, and any string
 * that reaches a log line passes through `redactPrivateData` first.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const PATTERNS: RegExp[] = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, // email
  /\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}\s?[A-Z0-9]{1,4}\b/gi, // IBAN
  /\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b/gi, // codice fiscale
  /(?:\+|00)?\d[\d\s.-]{7,}\d/g, // phone, card, long numbers
];

/** Replaces anything that looks like private data with `[redacted]` (for logs only). */
export function redactPrivateData(text: string): string {
  return PATTERNS.reduce((acc, re) => acc.replace(re, '[redacted]'), text);
}

/** Field names whose values are secrets, at any depth: passwords, secrets, tokens, cookies, keys, credentials. */
const SECRET_FIELD = /pass(?:word|wd|phrase)?|pwd|secret|token|cookie|authori[sz]ation|api[-_]?key|credential|signature/i;

/** Deepest level of a log object that is searched for secret fields (log objects are small). */
const MAX_DEPTH = 6;

/** A copy of `value` with every secret field censored, at any depth; the same object when there is none. */
function censorSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Error || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const items = value.map((v) => censorSecrets(v, depth + 1));
    return items.some((v, i) => v !== value[i]) ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, v] of Object.entries(value)) {
    const cleaned = SECRET_FIELD.test(key) && v !== undefined ? '[redacted]' : censorSecrets(v, depth + 1);
    if (cleaned !== v) (copy ??= { ...(value as Record<string, unknown>) })[key] = cleaned;
  }
  return copy ?? value;
}

/**
 * Creates the process logger. `text` and `body` are censored where they appear (message texts),
 * and so is every field named like a secret (password, secret, token, cookie, authorization,
 * API key, credential, signature) at any depth, whatever object it arrives in.
 */
export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'sportello',
      level: options.level ?? 'info',
      redact: {
        paths: [
          'text',
          '*.text',
          'body',
          '*.body',
          'password',
          '*.password',
          'token',
          '*.token',
          'headers.authorization',
          'headers.cookie',
          '*.headers.authorization',
          '*.headers.cookie',
        ],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? redactPrivateData(a) : censorSecrets(a)));
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}

/** A logger that discards everything (tests, CLI). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
