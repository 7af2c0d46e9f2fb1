/**
 * @module channels/twitter/signature
 * X's webhook checks, shared by the Account Activity API and the X Activity API: the CRC
 * challenge (GET with `crc_token`) and `x-twitter-webhooks-signature` over the raw POST body.
 * Both are HMAC-SHA256 with the app's consumer secret, base64-encoded, prefixed `sha256=`.
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../../util/safe-equal.js';
import type { ChannelRequest, ChannelResponse } from '../../core/ports.js';

/** `sha256=<base64 HMAC-SHA256(consumerSecret, data)>`: the CRC response token and the POST signature. */
export function xSignature(consumerSecret: string, data: Buffer | string): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(data).digest('base64')}`;
}

export { safeEqual };

const SIGNATURE = /^sha256=[A-Za-z0-9+/]{43}=$/;

/** True when `x-twitter-webhooks-signature` matches the raw body; false when missing, malformed or wrong. */
export function verifyWebhookSignature(consumerSecret: string, req: ChannelRequest): boolean {
  const header = req.headers['x-twitter-webhooks-signature']?.trim();
  if (!header || !SIGNATURE.test(header)) return false;
  return safeEqual(header, xSignature(consumerSecret, req.rawBody));
}

/**
 * Answers X's Challenge-Response Check: a GET with `crc_token` gets
 * `{"response_token":"sha256=…"}`; a GET without one is refused (400). POSTs are not handshakes.
 */
export function answerCrc(consumerSecret: string, req: ChannelRequest): ChannelResponse | undefined {
  if (req.method.toUpperCase() !== 'GET') return undefined;
  const token = req.query['crc_token'];
  if (token === undefined || token === '') {
    return { status: 400, body: { error: 'missing crc_token' }, contentType: 'application/json' };
  }
  return { status: 200, body: { response_token: xSignature(consumerSecret, token) }, contentType: 'application/json' };
}
