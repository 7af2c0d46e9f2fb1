/**
 * The platforms' side of `bench:e2e`, in a process of its own (so the load generator does not
 * slow down the platform the replies go to): the fake Graph API and the fake Bot Connector from
 * tests/fakes. It reports when each reply arrives (absolute ms, `performance.timeOrigin`-based,
 * comparable across processes) to the parent over IPC, in batches.
 * Started by bench/e2e/run.ts with `fork`; argv: number of Messenger customers, their PSID prefix.
 */
import { performance } from 'node:perf_hooks';
import { createFakeBotConnector, type ConnectorCall } from '../../tests/fakes/bot-connector/fake-bot-connector.js';
import type { GraphCall } from '../../tests/fakes/graph-api/fake-graph-api.js';
import { startGraph } from '../../tests/e2e/harness.js';

/** What this process tells its parent. */
export type PlatformMessage =
  | { type: 'ready'; graphOrigin: string; serviceUrl: string }
  | { type: 'replies'; system: 'graph' | 'connector'; arrivals: Array<[key: string, at: number]> };

const customers = Number(process.argv[2] ?? 0);
const prefix = process.argv[3] ?? '66';
const send = (message: PlatformMessage) => process.send?.(message);

const pending: Record<'graph' | 'connector', Array<[string, number]>> = { graph: [], connector: [] };
const now = () => performance.timeOrigin + performance.now();

const graph = await startGraph();
// Keep no history (a run sends tens of thousands): only report arrivals.
graph.calls.push = (...items: GraphCall[]) => {
  for (const call of items) {
    const message = call.body.message as { text?: string } | undefined;
    const recipient = (call.body.recipient as { id?: string } | undefined)?.id;
    if (message?.text !== undefined && recipient) pending.graph.push([recipient, now()]);
  }
  return 0;
};
const opened = new Date();
for (let i = 0; i < customers; i++) graph.userWrote(`${prefix}${String(i).padStart(12, '0')}`, opened);

const connector = await createFakeBotConnector();
connector.calls.push = (...items: ConnectorCall[]) => {
  for (const call of items) {
    const replyTo = call.replyToId ?? (call.activity.replyToId as string | undefined);
    if (replyTo) pending.connector.push([replyTo, now()]);
  }
  return 0;
};

const timer = setInterval(() => {
  for (const system of ['graph', 'connector'] as const) {
    if (pending[system].length === 0) continue;
    send({ type: 'replies', system, arrivals: pending[system] });
    pending[system] = [];
  }
}, 10);

process.on('disconnect', () => {
  clearInterval(timer);
  void Promise.all([graph.close(), connector.close()]).then(() => process.exit(0));
});
send({ type: 'ready', graphOrigin: graph.origin, serviceUrl: connector.serviceUrl });
