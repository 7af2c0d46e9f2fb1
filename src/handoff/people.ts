/**
 * @module handoff/people
 * Customer records of one person (issue 21): a record and those linked to it, directly or through
 * others (links are kept in the customer files, both ways). Linked records show one history.
 */
import type { Store } from '../core/ports.js';
import type { CustomerFile } from '../core/types.js';

/** At most this many linked records are gathered into one person (links are followed breadth first). */
export const MAX_LINKED = 50;

/** The records of the person `customerId` is (this one first), with their files. */
export async function personOf(store: Store, customerId: string): Promise<{ ids: string[]; files: Map<string, CustomerFile> }> {
  const files = new Map<string, CustomerFile>();
  const queue = [customerId];
  while (queue.length && files.size < MAX_LINKED) {
    const id = queue.shift()!;
    if (files.has(id)) continue;
    const file = await store.customerFiles.get(id);
    files.set(id, file);
    for (const other of file.links) if (!files.has(other)) queue.push(other);
  }
  return { ids: [...files.keys()], files };
}
