/**
 * A fake SMS gateway for the tests, speaking the protocol of channels/sms.js: it takes
 * `POST /v1/messages` (bearer key checked) and records each SMS, and it delivers customers' SMS
 * to a Sportello server as the real gateway would, signed with the webhook secret.
 */
import { createServer } from 'node:http';
import { signSms } from '../../channels/sms.js';

export async function startSmsGateway({ apiKey }) {
  const sent = [];
  const waiting = [];
  /** Statuses to answer the next sends with, before accepting again (e.g. [503]). */
  const failures = [];
  let counter = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const answer = (status, json) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.method !== 'POST' || req.url !== '/v1/messages') return answer(404, { error: 'not found' });
      if (req.headers.authorization !== `Bearer ${apiKey}`) return answer(401, { error: 'bad key' });
      if (failures.length > 0) return answer(failures.shift(), { error: 'try later' });
      const message = JSON.parse(body);
      if (typeof message.to !== 'string' || typeof message.text !== 'string' || typeof message.from !== 'string') return answer(400, { error: 'to, from and text' });
      counter += 1;
      sent.push(message);
      for (const w of waiting.splice(0)) if (!w.check()) waiting.push(w);
      answer(201, { id: `out_${counter}` });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  let inbound = 0;
  return {
    url,
    sent,
    failNext: (...statuses) => failures.push(...statuses),
    /** Resolves with the SMS sent to `to` once there are `count` of them. */
    waitFor(to, count = 1) {
      return new Promise((resolve) => {
        const w = { check: () => (sent.filter((m) => m.to === to).length >= count ? (resolve(sent.filter((m) => m.to === to)), true) : false) };
        if (!w.check()) waiting.push(w);
      });
    },
    /** Posts a customer's SMS to Sportello's webhook, signed (or with `signature` instead). */
    async deliver(sportelloUrl, { from, text, secret, signature, timestamp = Math.floor(Date.now() / 1000) }) {
      inbound += 1;
      const raw = JSON.stringify({ id: `in_${inbound}_${Date.now()}`, from, to: '+390212345678', text, received_at: new Date().toISOString() });
      return fetch(`${sportelloUrl}/webhooks/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sms-timestamp': String(timestamp), 'x-sms-signature': signature ?? signSms(secret, String(timestamp), raw) },
        body: raw,
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
