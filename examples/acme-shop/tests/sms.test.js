// The SMS channel end to end: Sportello (createSportello, as `sportello start` builds it from
// sportello.config.js) with a fake SMS gateway and the fake order service; customers' SMS arrive
// signed on /webhooks/sms, answers leave through the gateway's API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello } from 'sportello';
import project from '../sportello.config.js';
import { startOrderService } from '../order-service/server.js';
import { startSmsGateway } from './fakes/sms-gateway.js';

const SECRET = 'whsec-test-0123456789abcdef';
const API_KEY = 'sk-test-12345678';
let gateway, orders, sportello, url, dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acme-sms-'));
  gateway = await startSmsGateway({ apiKey: API_KEY });
  orders = await startOrderService();
  process.env.ORDERS_API_URL = orders.url;
  sportello = await createSportello({
    env: {
      ...project.env,
      SPORTELLO_DATA: join(dir, 'store.json'),
      FAQ_WATCH: 'false',
      LOG_LEVEL: 'silent',
      WEBCHAT: 'false',
      SMS_API_URL: gateway.url,
      SMS_API_KEY: API_KEY,
      SMS_WEBHOOK_SECRET: SECRET,
      SMS_SENDER: 'AcmeCaffe',
      ORDERS_API_URL: orders.url,
    },
    channels: project.channels,
  });
  url = await sportello.listen(0, '127.0.0.1');
});

after(async () => {
  await sportello?.close();
  await gateway?.close();
  await orders?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an SMS is answered by SMS, from the shop’s sender', async () => {
  const res = await gateway.deliver(url, { from: '+393330000001', text: 'siete aperti il sabato?', secret: SECRET });
  assert.equal(res.status, 200);
  const [sms] = await gateway.waitFor('+393330000001');
  assert.equal(sms.from, 'AcmeCaffe');
  assert.match(sms.text, /sabato dalle 9 alle 13/);
});

test('where is my order: the order-status action answers from the order service', async () => {
  await gateway.deliver(url, { from: '+393330000002', text: "dov'è il mio ordine? è AC-100777", secret: SECRET });
  const [sms] = await gateway.waitFor('+393330000002');
  assert.match(sms.text, /Stiamo preparando il tuo ordine: parte a breve con Poste Italiane/);
  assert.ok(orders.requests.some((r) => r.url === '/orders/AC-100777'));
});

test('a wrong, missing or old signature is refused, and nothing is answered', async () => {
  const before = gateway.sent.length;
  const forged = await gateway.deliver(url, { from: '+393330000003', text: 'ciao', secret: 'not-the-secret-at-all' });
  assert.equal(forged.status, 401);
  const unsigned = await gateway.deliver(url, { from: '+393330000003', text: 'ciao', signature: '' });
  assert.equal(unsigned.status, 401);
  const replayed = await gateway.deliver(url, { from: '+393330000003', text: 'ciao', secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 });
  assert.equal(replayed.status, 401);
  // A message that does get through afterwards is answered: the refused ones left nothing behind.
  await gateway.deliver(url, { from: '+393330000004', text: 'buongiorno', secret: SECRET });
  await gateway.waitFor('+393330000004');
  assert.equal(gateway.sent.filter((m) => m.to === '+393330000003').length, 0);
  assert.equal(gateway.sent.length, before + 1);
});

test('a gateway that answers 503 is tried again', async () => {
  gateway.failNext(503);
  await gateway.deliver(url, { from: '+393330000005', text: 'quanto costa la spedizione?', secret: SECRET });
  const [sms] = await gateway.waitFor('+393330000005');
  assert.match(sms.text, /gratuita sopra i 39/);
});
