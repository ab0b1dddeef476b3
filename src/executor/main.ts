import fs from 'node:fs';
import { pyodideWasm } from '../runtime/pyodideWasm.js'; // already compiling: see entry.ts
import { cachePaths } from '../cacheDir.js';
import type { Config } from '../config.js';
import { toExecutorError } from '../errors.js';
import { isSandboxedProcess } from '../launcher.js';
import { createLogger } from '../logging.js';
import { createPackageManager } from '../packages/packageManager.js';
import { resolvePackageSource } from '../packages/packageSource.js';
import { createExecutorPool, type ExecutorPool } from '../pool/executorPool.js';
import type { OutputMessage } from '../pool/messages.js';
import { loadOrMakeSnapshot } from '../pool/snapshot.js';
import { createSessionManager } from '../sessions/sessionManager.js';
import type { CallMap, CallName, ExecutorState, FromExecutor, ToExecutor } from './protocol.js';

/**
 * The executor process: the only process that runs Python. It holds the pool, the sessions and the
 * installer, and answers the front over IPC. When it dies (a V8 fatal out-of-memory ends a whole
 * process, not one worker), the front answers the calls it held and starts another.
 */

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** How long a run goes before the front hears that it started (shorter ones: with their answer). */
const RUN_START_PUSH_MS = 20;

function send(message: FromExecutor): void {
  // The front may be gone (it was killed, or is shutting down): nothing is left to answer.
  if (process.connected) process.send?.(message);
}

function start(config: Config): void {
  const logger = createLogger(config).child({ process: 'executor' });
  logger.info({ pid: process.pid }, 'executor starting');
  const paths = cachePaths(config);
  const packageSource = resolvePackageSource(config, logger);
  const snapshot = loadOrMakeSnapshot({ packages: packageSource, extraImports: config.warmImports, snapshotDir: paths.snapshots, logger });
  let pool: ExecutorPool | undefined;
  // Read in full only for the installer, which may never start: a failed read is logged where it
  // happens (and fails the workers' start), so here it must not be an unhandled rejection.
  const snapshotBytes = snapshot.then((s) => s.filled);
  snapshotBytes.catch(() => {});
  const packages = createPackageManager({ config, logger, snapshot: snapshotBytes, packageSource, wasm: pyodideWasm, onChange: () => pool?.syncPackages() });
  // A run's start changes the figures the front reports (busy, queued): see pushState.
  let onRunStart = () => {};
  const deps = {
    config,
    logger,
    snapshot,
    packageSource,
    wasm: pyodideWasm,
    packages: () => packages.records(),
    packagesReady: packages.ready(),
    onRunStart: () => onRunStart(),
  };
  pool = createExecutorPool(deps);
  const sessions = createSessionManager(deps);
  const running = new Map<number, AbortController>();

  const state = (): ExecutorState => ({
    stats: pool.stats(),
    installed: packages.installed(),
    problems: packages.problems(),
    sessions: sessions.listWithOwners(),
  });

  const calls: { [K in CallName]: (...args: CallMap[K]['args']) => Promise<CallMap[K]['value']> } = {
    ready: () => pool.ready(),
    packagesReady: () => packages.ready(),
    install: (names) => packages.install(names),
    createSession: (owner) => sessions.forOwner(owner).create(),
    resetSession: (owner, id) => sessions.forOwner(owner).reset(id),
    closeSession: (owner, id) => sessions.forOwner(owner).close(id),
  };

  // A run that arrives changes the figures the front reports (busy, queued): pushed to it when the
  // run is still going RUN_START_PUSH_MS later. A shorter run's answer carries them anyway, and a
  // message over the IPC pipe costs ~0.3 ms of CPU on each side: one per call, not two.
  let stateSentAt = 0;
  /** Every message that carries the figures goes through here, so pushState knows when they last went. */
  const sendWithState = (message: DistributiveOmit<FromExecutor & { state: ExecutorState }, 'state'>) => {
    stateSentAt = performance.now();
    send({ ...message, state: state() } as FromExecutor);
  };
  const sendState = () => sendWithState({ t: 'state' });
  let pushTimer: NodeJS.Timeout | undefined;
  let askedAt = 0;
  const pushState = () => {
    askedAt = performance.now(); // the latest change counts, not the one that set the timer
    pushTimer ??= setTimeout(() => {
      pushTimer = undefined;
      if (stateSentAt < askedAt) sendState();
    }, RUN_START_PUSH_MS);
  };
  onRunStart = pushState;

  const answer = (id: number, work: Promise<unknown>) =>
    work.then(
      (value) => sendWithState({ t: 'done', id, value }),
      (error: unknown) => sendWithState({ t: 'failed', id, error: toExecutorError(error).toInfo() }),
    );

  process.on('message', (message: ToExecutor) => {
    if (message.t === 'run') {
      const abort = new AbortController();
      running.set(message.id, abort);
      const { live, ...rest } = message.request;
      const request = {
        ...rest,
        signal: abort.signal,
        onOutput: live ? (batch: OutputMessage) => send({ t: 'output', id: message.id, batch }) : undefined,
      };
      const work = message.sessionId ? sessions.forOwner(message.owner ?? '').run(message.sessionId, request) : pool.run(request);
      void answer(message.id, work).finally(() => running.delete(message.id));
      pushState();
    } else if (message.t === 'cancel') {
      running.get(message.id)?.abort('cancelled');
    } else if (message.t === 'call') {
      const call = calls[message.name] as (...args: unknown[]) => Promise<unknown>;
      void answer(message.id, call(...message.args));
    } else if (message.t === 'close') {
      void Promise.allSettled([sessions.closeAll(), packages.close(), pool.close()]).finally(() => process.exit(0));
    }
  });
  // The front's health report reads this; pushed, so health_check needs no round trip.
  setInterval(sendState, 1000).unref();
  send({ t: 'hello', pid: process.pid });

  void pool.ready().then(
    () => {
      logger.info({ ms: Math.round(performance.now()) }, 'executor ready');
      sendState();
    },
    (error: unknown) => {
      logger.error({ error: String(error) }, 'start-up failed');
      // A damaged snapshot in the cache fails every worker the same way: drop it, so the next
      // start makes a new one (a good one dropped by mistake costs that start a few seconds).
      if (pool.stats().startFailures > 0) {
        fs.rmSync(paths.snapshots, { recursive: true, force: true });
        logger.error({ dir: paths.snapshots }, 'cached start-up snapshots removed: restart the server to make a new one');
      }
    },
  );
}

// Python must never run without Node's process-wide guards: refuse to start without them.
if (!isSandboxedProcess() || !process.send) {
  process.stderr.write('mcp-python-executor: the executor process runs only as a sandboxed child of the server\n');
  process.exit(1);
}
// The front is this process's only reason to live: without it, end (no orphaned workers). It may
// have gone while this process loaded (its settings were wrong, say).
process.on('disconnect', () => process.exit(0));
if (!process.connected) process.exit(0);
// The front forks this process before it has checked its settings; they come once it has.
process.once('message', (message: ToExecutor) => {
  if (message.t === 'close') process.exit(0); // the front stopped before it sent them
  if (message.t !== 'settings') {
    process.stderr.write(`mcp-python-executor: executor: expected the settings first, got "${String(message.t)}"\n`);
    process.exit(1);
  }
  try {
    start(message.config);
  } catch (error) {
    process.stderr.write(`mcp-python-executor: executor: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  }
});
send({ t: 'listening' });
