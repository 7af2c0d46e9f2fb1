/** What the package tests share: running a command to its end, and packing Sportello. */
import { spawn } from 'node:child_process';
import { ROOT } from '../helpers/app.js';

/** Runs a command to its end (no fixed timeout: the caller's test timeout bounds it). */
export function exec(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `npm pack` of the repository into `dir` (about 1.5 s: each package test packs its own; the
 * installs that follow are what take time). dist/ is fresh (the tests' global setup builds it),
 * so prepare is not run again. Returns the tarball's file name and the files it holds.
 */
export async function packSportello(dir: string): Promise<{ filename: string; files: Array<{ path: string }> }> {
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr.slice(-2000)}`);
  return (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
}

/** Installs a tarball in a project as a brand would: its dependencies from npm's cache when it has them, else the registry. */
export function installTarball(project: string, tarball: string) {
  return exec('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], project);
}
