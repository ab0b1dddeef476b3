#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { forkExecutor } from './front/executorProcess.js';
import { guardPathsFromEnv, isSandboxedProcess, relaunchSandboxed } from './launcher.js';

/**
 * bin entry: when this process lacks Node's sandbox flags, start it again with them; otherwise
 * read the settings and start the server. The process that only relaunches imports nothing heavy
 * (not even the settings' validation, done once, by the server), so it stays small and quick.
 */

const ENTRY = fileURLToPath(import.meta.url);

if (!isSandboxedProcess()) {
  relaunchSandboxed(guardPathsFromEnv(process.env), ENTRY, process.argv.slice(2));
} else {
  // The executor process starts loading now, side by side with the settings' check and the MCP
  // SDK here (~0.1 s off a cold start); it waits for the settings, and ends if this process does.
  let executor: ReturnType<typeof forkExecutor> | undefined;
  try {
    executor = forkExecutor(guardPathsFromEnv(process.env));
  } catch {
    // Forked again (and the failure reported) once the settings are known.
  }
  import('./config.js')
    .then(({ ConfigError, loadConfig }) => {
      try {
        return loadConfig(process.env, process.argv.slice(2));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`mcp-python-executor: ${error.message}\n`);
        executor?.proc.kill('SIGKILL'); // it would end anyway, once it has loaded and found us gone
        process.exit(1);
      }
    })
    .then(async (config) => (await import('./main.js')).main(config, executor))
    .catch((error: unknown) => {
      process.stderr.write(`mcp-python-executor: fatal: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    });
}
