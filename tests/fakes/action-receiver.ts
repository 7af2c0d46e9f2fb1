/**
 * @module tests/fakes/action-receiver
 * A brand's HTTP action endpoint on http://127.0.0.1: it verifies each call with the Standard
 * Webhooks library (`standardwebhooks`, as a brand's receiver would), records it, and answers
 * with the scripted responses in turn (a status and a body, a hang, a body that is not JSON);
 * when the script runs out it repeats the last one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One scripted answer. */
export type ReceiverResponse =
  | { status: number; json?: unknown; text?: string; headers?: Record<string, string> }
  | { hang: true };

/** One call the receiver got. */
export interface ReceivedCall {
  id: string;
  timestamp: string;
  signature: string;
  /** The signature checked out with the receiver's secret (the library threw nothing). */
  verified: boolean;
  verifyError?: string;
  body: unknown;
  raw: string;
}

export interface ActionReceiver {
  url: string;
  calls: ReceivedCall[];
  /** Replaces the script. */
  respond(...responses: ReceiverResponse[]): void;
  close(): Promise<void>;
}

/** Starts a receiver that verifies with `secret` (a whsec_ secret). */
export async function startActionReceiver(secret: string, ...script: ReceiverResponse[]): Promise<ActionReceiver> {
  const webhook = new Webhook(secret);
  let responses = script.length > 0 ? script : [{ status: 200, json: { reply: 'ok' } }];
  let next = 0;
  const calls: ReceivedCall[] = [];
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified = false;
      let verifyError: string | undefined;
      let body: unknown;
      try {
        body = webhook.verify(raw, headers);
        verified = true;
      } catch (err) {
        verifyError = (err as Error).message;
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      calls.push({ id: headers['webhook-id'] ?? '', timestamp: headers['webhook-timestamp'] ?? '', signature: headers['webhook-signature'] ?? '', verified, verifyError, body, raw });
      const response = responses[Math.min(next, responses.length - 1)]!;
      next += 1;
      if (!verified) {
        // Not chained: restify, loaded by other test files in this worker, patches writeHead to return nothing.
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'bad signature' }));
        return;
      }
      if ('hang' in response) {
        hanging.add(res);
        return;
      }
      res.writeHead(response.status, { 'content-type': response.text === undefined ? 'application/json' : 'text/plain', ...response.headers });
      res.end(response.text ?? (response.json === undefined ? '' : JSON.stringify(response.json)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sportello/action`,
    calls,
    respond(...r) {
      responses = r;
      next = 0;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fresh whsec_ secret (24 random bytes, base64), as a brand would generate one. */
export function newSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return `whsec_${Buffer.from(bytes).toString('base64')}`;
}
