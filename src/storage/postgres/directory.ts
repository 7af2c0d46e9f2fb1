/** @module storage/postgres/directory — customers (written by turns) and operators (unique ids and names). */
import { ConflictError } from '../../core/errors.js';
import type { Directory } from '../../core/ports.js';
import type { Customer, Operator } from '../../core/types.js';
import { isPgError, json, UNIQUE_VIOLATION, type Connection } from './connection.js';

export function postgresDirectory(conn: Connection): Directory {
  return {
    getCustomer: (id) => conn.firstDoc<Customer>('SELECT doc FROM customers WHERE id = $1', [id]),

    async addOperator(op) {
      try {
        await conn.query('INSERT INTO operators (id, doc) VALUES ($1, $2::jsonb)', [op.id, json(op)]);
      } catch (err) {
        const cause = (err as Error).cause;
        if (isPgError(cause, UNIQUE_VIOLATION)) {
          throw new ConflictError(
            cause.constraint === 'operators_name' ? `an operator named ${op.name} already exists` : `operator ${op.id} already exists`,
            { cause },
          );
        }
        throw err;
      }
    },

    getOperator: (id) => conn.firstDoc<Operator>('SELECT doc FROM operators WHERE id = $1', [id]),
    findOperatorByName: (name) => conn.firstDoc<Operator>('SELECT doc FROM operators WHERE name = $1', [name]),
    listOperators: () => conn.docs<Operator>('SELECT doc FROM operators ORDER BY n'),

    async updateOperator(id, change) {
      const { passwordHash, initials, role } = change;
      const set = { ...(passwordHash !== undefined && { passwordHash }), ...(initials !== undefined && { initials }), ...(role !== undefined && { role }) };
      return conn.firstDoc<Operator>('UPDATE operators SET doc = doc || $2::jsonb WHERE id = $1 RETURNING doc', [id, json(set)]);
    },

    removeOperator: (id) => conn.firstDoc<Operator>('DELETE FROM operators WHERE id = $1 RETURNING doc', [id]),
  };
}
