/** Runs `sportello eval` without the CLI dispatcher: `tsx bench/nlu/eval-direct.ts [PATH] [--json]`. */
import { runEval } from '../../src/cli/eval.js';

process.exitCode = await runEval(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
