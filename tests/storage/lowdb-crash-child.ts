/**
 * Child process of the lowdb crash test: commits turns in concurrent bursts forever and prints
 * `ack <n>` once each commit has resolved. The test kills it with SIGKILL mid-burst.
 */
import { createLowdbStore } from '../../src/storage/lowdb/index.js';

const file = process.argv[2];
if (!file) throw new Error('usage: lowdb-crash-child.ts FILE');
const store = createLowdbStore({ file });
await store.init();
let n = 0;
for (;;) {
  const burst = Array.from({ length: 25 }, () => n++);
  await Promise.all(
    burst.map(async (i) => {
      await store.commitTurn({
        conversations: [],
        messages: [{ id: `msg${i}`, conversationId: 'cv1', caseId: 'case1', direction: 'in', author: { kind: 'customer' }, text: `turn ${i} `.repeat(20), visibility: 'private', at: new Date().toISOString() }],
        outbox: [],
        events: [],
      });
      process.stdout.write(`ack ${i}\n`);
    }),
  );
}
