/**
 * @module config/alert-mail
 * The e-mail of listening's spike alerts to decision makers (docs/listening.md, "Alerts by
 * e-mail"): the SMTP server (`SMTP_URL`, or `SMTP_HOST`, `SMTP_PORT`, `SMTP_SECURE`, `SMTP_USER`,
 * `SMTP_PASSWORD`), the sender (`SMTP_FROM`), the recipients (`ALERT_EMAILS`, or the listening
 * file's `alerts.email.to`), the language of the mails (`ALERT_EMAIL_LANGUAGE`, default
 * `DEFAULT_LOCALE`) and the time a send may take (`SMTP_TIMEOUT_MS`). No server: no mail.
 */
import { z } from 'zod';
import type { Language } from '../core/types.js';

const email = z.email();

/** The variables, merged into the core's schema (envSchema). */
export const alertMailEnv = {
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'an smtp:// or smtps:// URL, e.g. smtps://user:password@mail.example.com:465')
    .optional(),
  SMTP_HOST: z.string().regex(/^[A-Za-z0-9.-]+$|^\[?[0-9a-fA-F:.]+\]?$/, 'a host name or address').optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SMTP_SECURE: z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v)).optional(),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_FROM: z.string().min(3).optional(),
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(20_000),
  ALERT_EMAILS: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(email, { message: 'comma-separated e-mail addresses' }))
    .optional(),
  ALERT_EMAIL_LANGUAGE: z.enum(['it', 'en']).optional(),
};

/** Where and how alert mails go. */
export interface AlertMailSettings {
  /** nodemailer's SMTP options: a URL, or host, port, secure and the login. */
  smtp: { url: string } | { host: string; port: number; secure: boolean; auth?: { user: string; pass: string } };
  from: string;
  /** Recipients from ALERT_EMAILS (the listening file's `alerts.email.to` replaces them). */
  to: string[];
  language: Language;
  /** The most a send may take (connection, greeting and each step; the whole send twice this). */
  timeoutMs: number;
}

type AlertMailEnv = z.infer<z.ZodObject<typeof alertMailEnv>>;

/** The settings from the parsed variables, or undefined when no SMTP server is given; problems are pushed. */
export function readAlertMail(e: AlertMailEnv, defaultLocale: Language, problems: string[]): AlertMailSettings | undefined {
  if (e.SMTP_URL && e.SMTP_HOST) problems.push('SMTP_HOST: give SMTP_URL or SMTP_HOST, not both');
  if (!e.SMTP_URL && !e.SMTP_HOST) {
    const stray = (['SMTP_PORT', 'SMTP_SECURE', 'SMTP_USER', 'SMTP_PASSWORD', 'SMTP_FROM', 'ALERT_EMAILS'] as const).filter((k) => e[k] !== undefined);
    if (stray.length > 0) problems.push(`${stray[0]}: set, but no SMTP server (SMTP_URL or SMTP_HOST): alert e-mails cannot be sent`);
    return undefined;
  }
  if (e.SMTP_URL && (e.SMTP_PORT !== undefined || e.SMTP_SECURE !== undefined || e.SMTP_USER || e.SMTP_PASSWORD)) {
    problems.push('SMTP_URL: the port, TLS and login go in the URL (smtps://user:password@host:465); remove SMTP_PORT, SMTP_SECURE, SMTP_USER, SMTP_PASSWORD');
  }
  if (Boolean(e.SMTP_USER) !== Boolean(e.SMTP_PASSWORD)) problems.push(`${e.SMTP_USER ? 'SMTP_PASSWORD' : 'SMTP_USER'}: the login needs both SMTP_USER and SMTP_PASSWORD`);
  if (!e.SMTP_FROM) problems.push('SMTP_FROM: the sender of alert e-mails is missing (e.g. "Sportello <alerts@brand.example>")');
  else if (!/<[^<>@\s]+@[^<>@\s]+>\s*$|^[^<>@\s]+@[^<>@\s]+$/.test(e.SMTP_FROM.trim())) problems.push(`SMTP_FROM: an address, or a name and <address> (got ${JSON.stringify(e.SMTP_FROM)})`);
  const port = e.SMTP_PORT ?? (e.SMTP_SECURE ? 465 : 587);
  return {
    smtp: e.SMTP_URL
      ? { url: e.SMTP_URL }
      : { host: e.SMTP_HOST!, port, secure: e.SMTP_SECURE ?? port === 465, ...(e.SMTP_USER && e.SMTP_PASSWORD ? { auth: { user: e.SMTP_USER, pass: e.SMTP_PASSWORD } } : {}) },
    from: (e.SMTP_FROM ?? '').trim(),
    to: e.ALERT_EMAILS ?? [],
    language: e.ALERT_EMAIL_LANGUAGE ?? defaultLocale,
    timeoutMs: e.SMTP_TIMEOUT_MS,
  };
}
