/**
 * @module events/subscriptions
 * Who receives Sportello's outbound events: the webhooks file (`WEBHOOKS_FILE`, YAML), checked
 * with zod and reported as `file:line:column: message`, with each subscription's signing secrets
 * read from the environment variable it names (`whsec_…`; several, space-separated, while a
 * secret is rotated). See docs/extending.md, "Outbound events".
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { locatePath } from '../corpus/load.js';

/** The events a subscription may ask for (payloads: docs/formats.md, "Outbound events"). */
export const EVENT_TYPES = ['conversation.escalated', 'conversation.assigned', 'conversation.resolved', 'message.created', 'faq.approved', 'csat.received', 'crisis.alert'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The payload versions this Sportello can write. */
export const PAYLOAD_VERSIONS = [1] as const;

/** One subscriber's endpoint, as the running instance uses it. */
export interface Subscription {
  name: string;
  url: string;
  events: ReadonlySet<EventType>;
  /** Signing secrets, `whsec_…`: every request carries one signature per secret (rotation). */
  secrets: readonly string[];
  /** Whether payloads may carry private data (message texts as written, customers' handles and names). */
  privateData: boolean;
  payloadVersion: number;
  /** The whole attempt (connect, send, answer) must end within this. */
  timeoutMs: number;
  /** Connecting must succeed within this. */
  connectTimeoutMs: number;
  /** Attempts before a delivery is given up (dead). */
  maxAttempts: number;
}

/** Every subscription, and how many requests are sent at once (across subscriptions). */
export interface Subscriptions {
  list: readonly Subscription[];
  concurrency: number;
}

/** No subscriptions: no event is recorded or sent. */
export const NO_SUBSCRIPTIONS: Subscriptions = { list: [], concurrency: 8 };

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a lower-case name: letters, digits, - and _');

const subscriptionSchema = z.strictObject({
  name,
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
  events: z.array(z.union([z.enum(EVENT_TYPES), z.literal('*')])).min(1, 'name at least one event, or "*"'),
  secret_env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'the name of an environment variable (upper case)'),
  private_data: z.boolean().default(false),
  payload_version: z.union(PAYLOAD_VERSIONS.map((v) => z.literal(v)) as [z.ZodLiteral<1>]).default(1),
  timeout_seconds: z.number().positive().max(120).default(10),
  connect_timeout_seconds: z.number().positive().max(60).default(3),
  max_attempts: z.number().int().min(1).max(100).default(15),
});

const fileSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(256).default(8),
  subscriptions: z.array(subscriptionSchema).default([]),
});

/** True for a Standard Webhooks secret: `whsec_` and 24 to 64 bytes in base64. */
export function isWebhookSecret(secret: string): boolean {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!m) return false;
  const bytes = Buffer.from(m[1]!, 'base64');
  return bytes.length >= 24 && bytes.length <= 64 && bytes.toString('base64').replace(/=+$/, '') === m[1]!.replace(/=+$/, '');
}

/**
 * Reads the webhooks file and the secrets its subscriptions name from `env`. Throws ConfigError
 * listing every problem (`file:line:column: message`; a missing or malformed secret names its
 * variable, never its value).
 */
export function loadSubscriptions(file: string | undefined, env: Record<string, string | undefined> = process.env): Subscriptions {
  if (file === undefined) return NO_SUBSCRIPTIONS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`WEBHOOKS_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `${file}:${line}:${col}: ${e.message.split('\n')[0]}`;
    }));
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => {
      const keys = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
      const { line, col } = locatePath(doc, lineCounter, keys);
      return `${file}:${line}:${col}: ${keys.join('.') || '(file)'}: ${issue.message}`;
    }));
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const list: Subscription[] = [];
  parsed.data.subscriptions.forEach((s, i) => {
    const where = () => {
      const { line, col } = locatePath(doc, lineCounter, ['subscriptions', i, 'secret_env']);
      return `${file}:${line}:${col}`;
    };
    if (seen.has(s.name)) {
      const { line, col } = locatePath(doc, lineCounter, ['subscriptions', i, 'name']);
      problems.push(`${file}:${line}:${col}: subscriptions.${i}.name: "${s.name}" is used twice`);
    }
    seen.add(s.name);
    const value = env[s.secret_env]?.trim();
    const secrets = value ? value.split(/[\s,]+/).filter(Boolean) : [];
    if (secrets.length === 0) problems.push(`${where()}: ${s.secret_env} (the secret of subscription ${s.name}) is not set`);
    else if (!secrets.every(isWebhookSecret)) {
      problems.push(`${where()}: ${s.secret_env} must hold whsec_ secrets (24 to 64 bytes in base64), space-separated during a rotation`);
    }
    list.push({
      name: s.name,
      url: s.url,
      // In the documented order, whatever the file's.
      events: new Set(EVENT_TYPES.filter((type) => s.events.includes('*') || s.events.includes(type))),
      secrets,
      privateData: s.private_data,
      payloadVersion: s.payload_version,
      timeoutMs: s.timeout_seconds * 1000,
      connectTimeoutMs: s.connect_timeout_seconds * 1000,
      maxAttempts: s.max_attempts,
    });
  });
  if (problems.length) throw new ConfigError(problems);
  return { list, concurrency: parsed.data.concurrency };
}
