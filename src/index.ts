#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config.js';
import { isSandboxedProcess, relaunchSandboxed } from './launcher.js';

/**
 * bin entry: read the settings, then either start the server or, when this process lacks Node's
 * sandbox flags, start it again with them. Nothing heavy is imported before that decision, so the
 * process that only relaunches stays small and quick.
 */

const ENTRY = fileURLToPath(import.meta.url);

let config: Config;
try {
  config = loadConfig(process.env, process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`mcp-python-executor: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

if (!isSandboxedProcess()) {
  relaunchSandboxed(config, ENTRY, process.argv.slice(2));
} else {
  import('./main.js')
    .then(({ main }) => main(config))
    .catch((error: unknown) => {
      process.stderr.write(`mcp-python-executor: fatal: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    });
}
