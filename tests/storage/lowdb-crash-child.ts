/**
 * Child process of the lowdb crash test: commits turns in concurrent bursts forever and prints
 * `ack <n>` once each commit has resolved. The test kills it with SIGKILL mid-burst.
 * Mode `whole` rewrites the file on each write; `journal` appends to the journal and compacts often.
 */
import { createLowdbStore } from '../../src/storage/lowdb/index.js';

const [file, mode] = process.argv.slice(2);
if (!file) throw new Error('usage: lowdb-crash-child.ts FILE [whole|journal]');
// journal: every write appends to the journal, folded into the file every 64 KiB.
const store = createLowdbStore(mode === 'journal' ? { file, wholeFileBelowBytes: 0, compactAfterBytes: 64 * 1024 } : { file });
await store.init();
let n = 0;
for (;;) {
  const burst = Array.from({ length: 25 }, () => n++);
  await Promise.all(
    burst.map(async (i) => {
      await store.conversations.commit({
        expect: { conversations: {}, cases: {} },
        conversations: [],
        messages: [{ id: `msg${i}`, conversationId: 'cv1', caseId: 'case1', direction: 'in', author: { kind: 'customer' }, text: `turn ${i} `.repeat(20), visibility: 'private', at: new Date().toISOString() }],
        outbox: [],
        events: [],
      });
      process.stdout.write(`ack ${i}\n`);
    }),
  );
}
