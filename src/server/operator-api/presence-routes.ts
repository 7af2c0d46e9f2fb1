/**
 * @module server/operator-api/presence-routes
 * Presence (every operator sets their own), the assignment settings and the teams (admins
 * change them; everyone reads them: the console shows a team's queue view). See
 * handoff/assignment.ts and docs/operator-desk-api.md.
 */
import { z } from 'zod';
import type { DeskSettings, Team } from '../../handoff/assignment.js';
import { newId } from '../../util/ids.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';

const language = z.enum(['it', 'en']);
const channelName = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'not a channel name');
const operatorIds = z.array(z.string().min(1).max(100)).max(200);

const presenceSchema = z.strictObject({ status: z.enum(['online', 'away']) });
const assignmentSchema = z
  .strictObject({
    auto_assign: z.boolean().optional(),
    capacity: z.number().int().min(1, 'at least 1').max(100, 'at most 100').optional(),
    away_return_minutes: z.number().int().min(1, 'at least 1 minute').max(7 * 24 * 60, 'at most a week').nullable().optional(),
    skills: z.record(z.string().min(1).max(100), z.strictObject({ languages: z.array(language).default([]), channels: z.array(channelName).default([]) })).optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'nothing to change');
const teamSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(80),
  members: operatorIds.default([]),
  channels: z.array(channelName).default([]),
  languages: z.array(language).default([]),
});
const teamChangeSchema = z
  .strictObject({ name: z.string().trim().min(1).max(80).optional(), members: operatorIds.optional(), channels: z.array(channelName).optional(), languages: z.array(language).optional() })
  .refine((c) => Object.keys(c).length > 0, 'nothing to change');

/** The settings as the API shows them. */
function publicSettings(s: DeskSettings) {
  return { auto_assign: s.autoAssign, capacity: s.capacity, away_return_minutes: s.awayReturnMinutes, skills: s.skills };
}

export function registerPresenceRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, assignment } = deps;
  const { route } = router;

  async function mustBeOperators(ids: readonly string[]): Promise<void> {
    const known = new Set((await store.directory.listOperators()).map((o) => o.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) throw new HttpError(400, `no such operator: ${unknown.join(', ')}`);
  }

  // ── presence ──

  route('get', '/presence', {}, async () => {
    const operators = await store.directory.listOperators();
    const present = await assignment.presence(operators.map((o) => o.id));
    return {
      operators: operators.map((o) => {
        const p = present.get(o.id)!;
        return { id: o.id, name: o.name, status: p.status, since: p.since, disconnected: p.disconnected };
      }),
    };
  });

  route('post', '/presence', { body: presenceSchema }, async ({ operator, body }) => {
    const p = await assignment.setPresence(operator, (body as z.infer<typeof presenceSchema>).status);
    return { operator_id: operator.id, status: p.status, since: p.since };
  });

  // ── assignment settings ──

  route('get', '/assignment', {}, async () => publicSettings(await assignment.settings()));

  route('put', '/assignment', { admin: true, body: assignmentSchema }, async ({ body }) => {
    const change = body as z.infer<typeof assignmentSchema>;
    if (change.skills) await mustBeOperators(Object.keys(change.skills));
    const next = await assignment.updateSettings((s) => ({
      ...s,
      ...(change.auto_assign !== undefined ? { autoAssign: change.auto_assign } : {}),
      ...(change.capacity !== undefined ? { capacity: change.capacity } : {}),
      ...(change.away_return_minutes !== undefined ? { awayReturnMinutes: change.away_return_minutes } : {}),
      ...(change.skills !== undefined ? { skills: change.skills } : {}),
    }));
    return publicSettings(next);
  });

  // ── teams ──

  route('get', '/teams', {}, async () => ({ teams: (await assignment.settings()).teams }));

  route('post', '/teams', { admin: true, body: teamSchema }, async ({ body }) => {
    const input = body as z.infer<typeof teamSchema>;
    await mustBeOperators(input.members);
    const team: Team = { id: newId('team'), ...input, members: [...new Set(input.members)] };
    await assignment.updateSettings((s) => {
      if (s.teams.some((t) => t.name.toLowerCase() === team.name.toLowerCase())) throw new HttpError(409, `a team named ${team.name} already exists`);
      return { ...s, teams: [...s.teams, team] };
    });
    return { team };
  });

  route('put', '/teams/:id', { admin: true, body: teamChangeSchema }, async ({ id, body }) => {
    const change = body as z.infer<typeof teamChangeSchema>;
    if (change.members) await mustBeOperators(change.members);
    let updated: Team | undefined;
    await assignment.updateSettings((s) => {
      const found = s.teams.find((t) => t.id === id);
      if (!found) throw new HttpError(404, `team ${id} does not exist`);
      updated = { ...found, ...change, ...(change.members ? { members: [...new Set(change.members)] } : {}) };
      return { ...s, teams: s.teams.map((t) => (t.id === id ? updated! : t)) };
    });
    return { team: updated };
  });

  route('del', '/teams/:id', { admin: true }, async ({ id }) => {
    await assignment.updateSettings((s) => {
      if (!s.teams.some((t) => t.id === id)) throw new HttpError(404, `team ${id} does not exist`);
      return { ...s, teams: s.teams.filter((t) => t.id !== id) };
    });
    return { ok: true };
  });
}
