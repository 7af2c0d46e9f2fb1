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

/** Creates the process logger. `text`, `body` and secret fields are censored wherever they appear. */
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
          const cleaned = args.map((a) => (typeof a === 'string' ? redactPrivateData(a) : a));
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
