/**
 * @module tests/channels/webchat/helpers
 * Shared by the web chat tests: a visitor's session and messages as the page sends them, and the
 * page's event stream (`GET /chat/api/events`) read as it arrives.
 */
import { expect } from '@jest/globals';

/** A page's open event stream: everything received so far. */
export interface PageEvents {
  /** Reads until `until` matches what came so far (or `ms` pass); returns all of it. */
  until(until: RegExp, ms?: number): Promise<string>;
  close(): void;
}

/** An open event stream (connected: the channel has subscribed once the headers are here). */
export async function openEvents(url: string): Promise<PageEvents> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`web chat events on ${url} answered ${res.status}`);
  const reader = res.body.getReader();
  let text = '';
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  return {
    async until(until, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!until.test(text) && Date.now() < deadline) {
        pending ??= reader.read();
        const next = await Promise.race([pending, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
        if (!next) continue;
        pending = undefined;
        if (next.done) break;
        text += new TextDecoder().decode(next.value);
      }
      return text;
    },
    close: () => controller.abort(),
  };
}

/** Reads an event stream until `until` matches the text received, or the deadline passes; then closes it. */
export async function readEvents(url: string, until: RegExp, ms = 5000): Promise<string> {
  const events = await openEvents(url);
  try {
    return await events.until(until, ms);
  } finally {
    events.close();
  }
}

/** The events of an SSE text: name and parsed data. */
export function parseEvents(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .map((block) => ({ event: /^event: (.+)$/m.exec(block)?.[1], data: /^data: (.+)$/m.exec(block)?.[1] }))
    .filter((e): e is { event: string; data: string } => e.event !== undefined && e.data !== undefined)
    .map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
}

/** A new visitor: the token their page keeps, and their public id. */
export async function newSession(base: string, headers: Record<string, string> = {}): Promise<{ session: string; visitor: string }> {
  const res = await fetch(`${base}/chat/api/sessions`, { method: 'POST', headers });
  expect(res.status).toBe(201);
  return (await res.json()) as { session: string; visitor: string };
}

/** A visitor's message as the page posts it. */
export const postMessage = (base: string, body: Record<string, unknown>) =>
  fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
