/**
 * Reference for `bench:e2e`: a bare restify POST route answering JSON (the HTTP floor on this machine).
 * Usage: node --import tsx bench/e2e/hello-server.ts PORT
 */
import restify from 'restify';

const port = Number(process.argv[2] ?? 0);
const server = restify.createServer({ name: 'hello', handleUncaughtExceptions: false });
server.use(restify.plugins.bodyParser());
server.post('/hello', async (_req, res) => {
  res.send(200, { hello: 'world' });
});
server.get('/healthz', async (_req, res) => {
  res.send(200, { status: 'ok' });
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
