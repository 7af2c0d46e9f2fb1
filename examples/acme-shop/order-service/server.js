/**
 * A stand-in for Acme Caffè's order system: a tiny HTTP service with a few orders, for trying the
 * project on a laptop (`npm run orders`) and for its tests, which start it on a free port.
 *
 *   GET /orders/AC-100234   → 200 {"number":"AC-100234","status":"shipped","eta":"2026-12-10","carrier":"BRT"}
 *   GET /orders/AC-999999   → 404 {"error":"no such order"}
 *
 * `fail: true` makes every call answer 500 (a system that is down), `delayMs` delays each answer.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The orders it knows; statuses: processing, shipped, delivered, lost. */
export const ORDERS = {
  'AC-100234': { status: 'shipped', eta: '2026-12-10', carrier: 'BRT' },
  'AC-100777': { status: 'processing', eta: '2026-12-14', carrier: 'Poste Italiane' },
  'AC-100555': { status: 'delivered', eta: '2026-12-01', carrier: 'BRT' },
  'AC-100404': { status: 'lost', eta: '2026-11-28', carrier: 'BRT' },
};

/** Starts the service; resolves with its base URL, the requests it saw and `close()`. */
export function startOrderService({ port = 0, host = '127.0.0.1', fail = false, delayMs = 0 } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url });
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    setTimeout(() => {
      if (fail) return answer(500, { error: 'the order database is down' });
      const match = /^\/orders\/([A-Za-z0-9-]+)$/.exec(req.url ?? '');
      if (req.method !== 'GET' || !match) return answer(404, { error: 'not found' });
      const order = ORDERS[match[1]];
      if (!order) return answer(404, { error: 'no such order' });
      answer(200, { number: match[1], ...order });
    }, delayMs);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      resolve({
        url: `http://${host}:${bound}`,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

// `node order-service/server.js` (npm run orders): the service on ORDERS_PORT (default 4100).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const service = await startOrderService({ port: Number(process.env.ORDERS_PORT ?? 4100) });
  console.log(`fake order service on ${service.url} (orders: ${Object.keys(ORDERS).join(', ')})`);
}
