#!/usr/bin/env node
import { nodeRefusal } from './nodeSupport.js';

/**
 * The command users run. It imports only nodeSupport.js (which imports nothing) before deciding,
 * so an unsupported Node prints the supported range instead of a syntax error or nine "bad option"
 * lines; `--help` and `--version` are answered without starting anything; everything else is the
 * server (index.js).
 */

const refusal = nodeRefusal(process.versions.node);
const args = process.argv.slice(2);

if (refusal) {
  process.stderr.write(refusal);
  process.exitCode = 1;
} else if (args.some((a) => ['--help', '-h', '--version', '-v'].includes(a))) {
  void import('./usage.js').then(({ answerUsage }) => answerUsage(args));
} else {
  void import('./index.js');
}
