import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromExecutor } from '../executor/protocol.js';
import { sandboxFlags, type GuardPaths } from '../launcher.js';

/**
 * Forking the executor process. The front forks the first one as soon as it runs, before it has
 * loaded and checked its settings (zod alone takes ~0.1 s): the executor then loads side by side
 * with it and waits for the settings, which the front sends once they are valid (see
 * executorClient.ts). Nothing the process says before the front takes it over is lost.
 */

const EXECUTOR_ENTRY = fileURLToPath(new URL('../executor/entry.js', import.meta.url));

/**
 * V8 moves a WebAssembly function to its optimising compiler (TurboFan) once it has run enough:
 * 1.8 MB of code by Node 20's V8, 13 MB by Node 24's. At 1.8 MB a worker's start (the
 * interpreter's hot paths, the warm-up runs) sends hundreds of functions to TurboFan, whose
 * compiles take the cores the start itself needs. Measured on 2 cores: Node 20's cold start
 * ~0.1 s shorter with Node 24's budget, and Node 24 no faster with a larger one.
 */
const WASM_TIERING_BUDGET = '--wasm-tiering-budget=13000000';

export type ExecutorProcess = {
  readonly proc: ChildProcess;
  /** The guard paths it runs under: a process forked for other paths is not the one to use. */
  readonly paths: GuardPaths;
  readonly startedAt: number;
  /**
   * Start handling its messages, errors and exit, those that came before included. A process
   * that could not be started at all has an error and no exit: it is reported as an exit.
   */
  adopt(onMessage: (message: FromExecutor) => void, onExit: (code: number | null, signal: NodeJS.Signals | null) => void, onError: (error: Error) => void): void;
};

export function forkExecutor(paths: GuardPaths): ExecutorProcess {
  const startedAt = performance.now();
  // The executor has no use for the bearer token: it never sees it, in the settings or the environment.
  const { MCP_AUTH_TOKEN: _token, ...env } = process.env;
  const proc = fork(EXECUTOR_ENTRY, [], {
    execArgv: [...sandboxFlags(paths, EXECUTOR_ENTRY), WASM_TIERING_BUDGET],
    env,
    serialization: 'advanced',
    // stdout is the MCP channel: the executor's goes to stderr, like its logs.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  proc.stdout?.pipe(process.stderr);
  const early: FromExecutor[] = [];
  let exited: [number | null, NodeJS.Signals | null] | undefined;
  const keep = (message: FromExecutor) => void early.push(message);
  const keepExit = (code: number | null, signal: NodeJS.Signals | null) => void (exited = [code, signal]);
  const errors: Error[] = [];
  const keepError = (error: Error) => void errors.push(error); // unhandled, it would end the front
  proc.on('message', keep);
  proc.once('exit', keepExit);
  proc.on('error', keepError);
  return {
    proc,
    paths,
    startedAt,
    adopt(onMessage, onExit, onError) {
      proc.off('message', keep);
      proc.off('exit', keepExit);
      proc.off('error', keepError);
      let ended = false;
      const exit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (!ended) onExit(code, signal);
        ended = true;
      };
      const error = (e: Error) => {
        onError(e);
        if (proc.pid === undefined) exit(null, null); // never started: no 'exit' will come
      };
      proc.on('message', onMessage);
      proc.on('error', error);
      for (const message of early.splice(0)) onMessage(message);
      for (const e of errors.splice(0)) error(e);
      if (exited) exit(...exited);
      else proc.once('exit', exit);
    },
  };
}

export function samePaths(a: GuardPaths, b: GuardPaths): boolean {
  return a.packageCacheDir === b.packageCacheDir && a.pyodideDistDir === b.pyodideDistDir && a.mountHostDir === b.mountHostDir && a.mountMode === b.mountMode;
}
