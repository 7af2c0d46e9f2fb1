/** Test helper: the problems `loadConfig` names for an environment (none: an empty list). */
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/core/errors.js';

export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}
