/**
 * Reference for `bench:e2e`: the botbuilder echo bot a user would otherwise start from — CloudAdapter
 * with empty credentials on restify, replying through the Bot Connector named by each activity's
 * `serviceUrl` (a fake one on 127.0.0.1 in the benchmark).
 * Usage: node --import tsx bench/e2e/echo-bot.ts PORT
 */
import restify from 'restify';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';

const port = Number(process.argv[2] ?? 0);
const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
adapter.onTurnError = async (_context, error) => {
  console.error('echo bot turn failed:', error);
};
const bot = new ActivityHandler();
bot.onMessage(async (context, next) => {
  await context.sendActivity(`Echo: ${context.activity.text ?? ''}`);
  await next();
});

const server = restify.createServer({ name: 'echo-bot', handleUncaughtExceptions: false });
server.use(restify.plugins.bodyParser());
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});
server.get('/healthz', async (_req, res) => {
  res.send(200, { status: 'ok' });
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
