/**
 * SMS, through an SMS gateway's HTTP API: Acme Caffè's own channel, written with `defineChannel`.
 *
 * The gateway (a fictional one, shaped like the real ones) speaks this protocol:
 *   - an SMS to the shop's number arrives as `POST /webhooks/sms` with the JSON
 *     `{"id":"in_…","from":"+39333…","to":"+3902…","text":"…","received_at":"<ISO time>"}`, signed:
 *     `x-sms-timestamp: <unix seconds>` and `x-sms-signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`
 *     with the webhook secret; a request more than 5 minutes old is refused (a replay);
 *   - the shop sends with `POST <SMS_API_URL>/v1/messages`, `authorization: Bearer <SMS_API_KEY>`,
 *     `{"to":"+39333…","from":"<SMS_SENDER>","text":"…","reference":"<our id>"}` → `201 {"id":"out_…"}`;
 *     a 429 or a 5xx may be tried again later, any other status is a refusal.
 *
 * SMS is private only: no public replies. A customer's phone number is their id on this channel:
 * it is never written to the logs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ChannelApiError, NetworkError, allOrNone, defineChannel, z } from 'sportello';

/** How far the signed timestamp may be from now. */
const TOLERANCE_SECONDS = 300;

const capabilities = {
  publicReplies: false,
  privateMessages: true,
  // Three concatenated SMS (153 characters each): longer answers use the FAQ's answer_short.
  maxLength: { public: 459, private: 459 },
  measure: (text) => [...text].length,
  quickReplies: 0,
  signsPublicReplies: false,
  maxThread: 1,
};

/** What the gateway posts. */
const inboundSchema = z.object({
  id: z.string().min(1).max(100),
  from: z.string().regex(/^\+?\d{6,15}$/, 'a phone number in international format'),
  to: z.string().optional(),
  text: z.string().max(2000),
  received_at: z.iso.datetime({ offset: true }).optional(),
});

/** The signature the gateway puts on a webhook: `v1=<hex>` of "<timestamp>.<body>". */
export function signSms(secret, timestamp, rawBody) {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

export const smsChannel = defineChannel({
  name: 'sms',
  title: 'SMS',
  env: z.object({
    SMS_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.sms-gateway.example'),
    SMS_API_KEY: z.string().min(8).optional(),
    SMS_WEBHOOK_SECRET: z.string().min(16).optional(),
    SMS_SENDER: z.string().regex(/^\+?\d{6,15}$|^[A-Za-z0-9 ]{1,11}$/, 'a phone number or an alphanumeric sender of at most 11 characters').optional(),
  }),
  // All or none: a half-configured channel stops the start naming what is missing.
  settings: (e) =>
    allOrNone('sms', e, ['SMS_API_KEY', 'SMS_WEBHOOK_SECRET', 'SMS_SENDER'], () => ({
      apiUrl: e.SMS_API_URL.replace(/\/$/, ''),
      apiKey: e.SMS_API_KEY,
      secret: e.SMS_WEBHOOK_SECRET,
      sender: e.SMS_SENDER,
    })),
  capabilities,
  sendSlots: 8,
  create: (settings, { logger, clock, outbound }) => ({
    name: 'sms',
    capabilities,

    async verify(req) {
      const timestamp = req.headers['x-sms-timestamp'] ?? '';
      const signature = req.headers['x-sms-signature'] ?? '';
      if (!/^\d{1,12}$/.test(timestamp)) return false;
      if (Math.abs(clock.now().getTime() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
      const expected = Buffer.from(signSms(settings.secret, timestamp, req.rawBody));
      const given = Buffer.from(signature);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },

    async parse(req) {
      let body;
      try {
        body = inboundSchema.parse(JSON.parse(req.rawBody.toString('utf8')));
      } catch (err) {
        // Signed but not what the gateway sends: nothing to answer (the body is not logged: it is private).
        logger.warn({ channel: 'sms', problem: err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : 'not JSON' }, 'sms webhook ignored');
        return [];
      }
      return [
        {
          channel: 'sms',
          id: body.id,
          visibility: 'private',
          customer: { platformId: body.from },
          text: body.text,
          sentAt: body.received_at ?? clock.now().toISOString(),
        },
      ];
    },

    async send(item) {
      let res;
      try {
        res = await fetch(`${settings.apiUrl}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${settings.apiKey}` },
          body: JSON.stringify({ to: item.recipient, from: settings.sender, text: item.reply.text, reference: item.id }),
          signal: AbortSignal.timeout(outbound.timeoutMs),
        });
      } catch (err) {
        throw new NetworkError('the SMS gateway could not be reached', { cause: err });
      }
      const answer = await res.json().catch(() => ({}));
      if (res.status !== 201 && res.status !== 200) {
        const retryable = res.status === 429 || res.status >= 500;
        throw new ChannelApiError(`the SMS gateway answered ${res.status}`, { channel: 'sms', status: res.status, retryable });
      }
      if (typeof answer.id !== 'string') throw new ChannelApiError('the SMS gateway answered without a message id', { channel: 'sms', status: res.status, retryable: false });
      return { platformId: answer.id };
    },
  }),
});
