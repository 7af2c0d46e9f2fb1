/**
 * @module cli/args
 * The command line's conventions, one place for every command: `--help` (or `-h`) prints the
 * command's usage and exits 0; an unknown option, a missing value or an extra argument is a
 * `UsageError`: the CLI prints what is wrong and the usage, and exits 2. A failure of the work
 * itself (a bad environment value, a FAQ with errors, a file that is not there, a failed test)
 * exits 1. No stack trace for a user's mistake.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Whether the arguments ask for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** node:util's parseArgs, strict, with its complaints turned into UsageError. */
export function parseCommandArgs(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): { values: Record<string, string | boolean | Array<string | boolean> | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** The package's version (package.json beside src/ and dist/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** A file system error about a path the user gave (not there, not readable, a folder where a file was expected). */
export function pathError(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e !== 'object' || typeof e.path !== 'string') return undefined;
  const what: Record<string, string> = {
    ENOENT: 'no such file or folder',
    ENOTDIR: 'not a folder',
    EISDIR: 'is a folder, not a file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
  };
  return e.code && what[e.code] ? `${e.path}: ${what[e.code]}` : undefined;
}
