// The order-status action on its own, against the fake order service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import orderStatus, { orderNumber } from '../actions/order-status.js';
import { startOrderService } from '../order-service/server.js';

let orders;
const call = (data, language = 'it') => orderStatus.handle({ handler: 'order-status', faq: 'stato-ordine', language, channel: 'sms', visibility: 'private', data }, { signal: AbortSignal.timeout(5000) });

before(async () => {
  orders = await startOrderService();
  process.env.ORDERS_API_URL = orders.url;
});
after(() => orders.close());

test('order numbers as customers write them', () => {
  assert.equal(orderNumber('AC-100234'), 'AC-100234');
  assert.equal(orderNumber('ac100234'), 'AC-100234');
  assert.equal(orderNumber('nessuno'), undefined);
});

test('a shipped order: when it arrives, in the customer’s language', async () => {
  assert.deepEqual(await call({ order_number: 'AC-100234' }), { reply: 'Il tuo ordine è in viaggio con BRT: arriva giovedì 10 dicembre.' });
  assert.deepEqual(await call({ order_number: 'ac100234' }, 'en'), { reply: 'Your order is on its way with BRT: it arrives on Thursday 10 December.' });
  assert.equal(orders.requests.at(-1).url, '/orders/AC-100234');
});

test('an unknown order: asks to check the number', async () => {
  const result = await call({ order_number: 'AC-999999' });
  assert.match(result.reply, /Non trovo un ordine/);
});

test('a lost parcel: hands over to a person, with a note for them', async () => {
  assert.deepEqual(await call({ order_number: 'AC-100404' }, 'en'), { handoff: true, reason: 'the courier (BRT) reports the parcel lost' });
});

test('the order service failing is a failure (Sportello then hands over)', async () => {
  const down = await startOrderService({ fail: true });
  process.env.ORDERS_API_URL = down.url;
  try {
    await assert.rejects(call({ order_number: 'AC-100234' }), /answered 500/);
  } finally {
    process.env.ORDERS_API_URL = orders.url;
    await down.close();
  }
});
