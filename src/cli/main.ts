/** @module cli/main — the `sportello` executable's entry point. */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
