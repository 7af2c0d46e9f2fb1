/**
 * @module channels/messenger/signature
 * Meta's webhook checks: the `hub.challenge` subscription handshake and the
 * `X-Hub-Signature-256` HMAC over the raw body. Bottender verifies only the legacy SHA-1
 * header, so both checks live here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { safeEqual } from '../../util/safe-equal.js';
import type { ChannelRequest, ChannelResponse } from '../../core/ports.js';

export { safeEqual };

/** `sha256=<hex>` as Meta computes it: HMAC-SHA256 of the raw body bytes with the app secret. */
export function signBody(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** True when `X-Hub-Signature-256` matches the raw body; false when missing, malformed or wrong. */
export function verifySignature(appSecret: string, req: ChannelRequest): boolean {
  const header = req.headers['x-hub-signature-256'];
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header.trim())) return false;
  const expected = signBody(appSecret, req.rawBody);
  // Both are `sha256=` and 64 hex digits (checked above): equal, public lengths, so a plain
  // constant-time comparison of the bytes will do.
  return timingSafeEqual(Buffer.from(header.trim().toLowerCase(), 'latin1'), Buffer.from(expected, 'latin1'));
}

/**
 * Answers Meta's subscription check: GET with `hub.mode=subscribe` and our verify token echoes
 * `hub.challenge` as text/plain; any other GET is refused with 403. POSTs are not handshakes.
 */
export function answerHandshake(verifyToken: string, req: ChannelRequest): ChannelResponse | undefined {
  if (req.method.toUpperCase() !== 'GET') return undefined;
  const mode = req.query['hub.mode'];
  const token = req.query['hub.verify_token'];
  const challenge = req.query['hub.challenge'];
  if (mode === 'subscribe' && token !== undefined && challenge !== undefined && safeEqual(token, verifyToken)) {
    return { status: 200, body: challenge, contentType: 'text/plain' };
  }
  return { status: 403, body: 'verification failed', contentType: 'text/plain' };
}
