/**
 * @module server/operator-api/customer-rights-routes
 * A customer's data rights from the console (issue 22), for admins only: `GET
 * /customers/:id/export` (everything held about the person, the record and those linked to it:
 * docs/formats.md "Customer data export") and `DELETE /customers/:id` (erasure; CSRF-checked like
 * every change; the console asks for confirmation first). Both are written to the audit trail
 * with who, when and from where. Shapes: docs/operator-api.md.
 */
import { auditCustomerAction, eraseCustomer, exportCustomer } from '../../handoff/customer-rights.js';
import { createConversationWriter } from '../../pipeline/conversation-writer.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';

export function registerCustomerRightsRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, clock, logger } = deps;
  // An erasure resolves the person's open conversations through the one write path.
  const writer = createConversationWriter({ store, bus: deps.bus, logger, recorder: deps.recorder });

  router.route('get', '/customers/:id/export', { admin: true }, async ({ id, operator, req, res }) => {
    const doc = await exportCustomer(store, id, clock);
    if (!doc) throw new HttpError(404, `customer ${id} does not exist`);
    await auditCustomerAction(store, clock, { action: 'customer.export', customerId: id, operatorId: operator.id, from: router.clientAddress(req) });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': 'attachment; filename="customer-export.json"',
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify(doc, null, 2));
    return undefined;
  });

  router.route('del', '/customers/:id', { admin: true }, async ({ id, operator, req }) => {
    const done = await eraseCustomer(store, id, clock, writer);
    if (!done) throw new HttpError(404, `customer ${id} does not exist`);
    await auditCustomerAction(store, clock, { action: 'customer.erase', customerId: id, operatorId: operator.id, from: router.clientAddress(req) });
    // The log names no customer: only that an erasure was done, by whom.
    logger.info({ operatorId: operator.id, records: done.erased.length, closed: done.closed }, 'customer data erased');
    const sum = (k: 'conversations' | 'messages') => done.results.reduce((n, r) => n + r.anonymised[k], 0);
    return { erased: done.erased.length, conversations: sum('conversations'), messages: sum('messages'), closed: done.closed };
  });
}
