// The baseline of bench/startup: a bare restify server with a /healthz route, nothing else.
import restify from 'restify';

const server = restify.createServer({ name: 'bare' });
server.get('/healthz', (_req, res, next) => {
  res.send({ status: 'ok' });
  next();
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
