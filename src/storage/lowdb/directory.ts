/** @module storage/lowdb/directory — customers (written by turns) and operators (unique ids and names). */
import { ConflictError } from '../../core/errors.js';
import type { Directory } from '../../core/ports.js';
import type { LowdbParts } from './parts.js';
import { clone } from './records.js';

export function lowdbDirectory({ mem, file, ensureOpen }: LowdbParts): Directory {
  return {
    async getCustomer(id) {
      ensureOpen();
      const c = mem.customers.get(id);
      return c && clone(c);
    },

    async addOperator(op) {
      ensureOpen();
      if (mem.operators.has(op.id)) throw new ConflictError(`operator ${op.id} already exists`);
      if (mem.operatorByName.has(op.name)) throw new ConflictError(`an operator named ${op.name} already exists`);
      await file.commit([['operator', clone(op)]]);
    },

    async getOperator(id) {
      ensureOpen();
      const op = mem.operators.get(id);
      return op && clone(op);
    },

    async findOperatorByName(name) {
      ensureOpen();
      const id = mem.operatorByName.get(name);
      const op = id === undefined ? undefined : mem.operators.get(id);
      return op && clone(op);
    },

    async listOperators() {
      ensureOpen();
      return [...mem.operators.values()].map(clone);
    },

    async updateOperator(id, change) {
      ensureOpen();
      const op = mem.operators.get(id);
      if (!op) return undefined;
      const { passwordHash, initials, role } = change;
      const updated = { ...clone(op), ...(passwordHash !== undefined && { passwordHash }), ...(initials !== undefined && { initials }), ...(role !== undefined && { role }) };
      await file.commit([['operator', updated]]);
      return clone(updated);
    },

    async removeOperator(id) {
      ensureOpen();
      const op = mem.operators.get(id);
      if (!op) return undefined;
      const was = clone(op);
      await file.commit([['operator-delete', { id }]]);
      return was;
    },
  };
}
