import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { parentPort, threadId } from 'node:worker_threads';

/**
 * Pyodide writes diagnostics with console.*; a worker's stdout is the MCP channel and its stderr
 * the server's structured log. So a worker's console goes to its parent, which logs each line at
 * debug (log, info) or error (warn, error) level.
 */
export function routeConsoleToParent(): void {
  const send = (level: 'debug' | 'error') => (...args: unknown[]) => {
    const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' ');
    parentPort?.postMessage({ type: 'worker-log', level, threadId, text: text.slice(0, 4000) });
  };
  const debug = send('debug');
  const error = send('error');
  const devNull = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  globalThis.console = Object.assign(Object.create(new Console({ stdout: devNull, stderr: devNull })) as Console, {
    log: debug,
    info: debug,
    debug,
    trace: debug,
    dir: debug,
    warn: error,
    error,
  });
}
