import type { ChildProcess } from 'node:child_process';
import { createReasonCounter } from '../boundedText.js';
import type { Config } from '../config.js';
import { ExecutorError } from '../errors.js';
import type { CallMap, CallName, ExecutorState, FromExecutor, RunAnswer, ToExecutor } from '../executor/protocol.js';
import type { GuardPaths } from '../launcher.js';
import type { Logger } from '../logging.js';
import type { ExecuteRequest } from '../pool/executorPool.js';
import type { OutputMessage } from '../pool/messages.js';
import { failedResult } from '../pool/results.js';
import { forkExecutor, samePaths, type ExecutorProcess } from './executorProcess.js';

/**
 * The front's handle on the executor process: it forks it under the same sandbox flags the
 * launcher sets (but without the right to start processes), sends runs and calls over IPC, and
 * starts another at once when it dies, from the cached snapshot, with back-off when starts keep
 * failing. Calls in flight then get INTERNAL_ERROR (EXECUTOR_EXIT, "retry"); sessions that lived
 * there answer their next call as lost (SESSION_LOST).
 */

/** A process that dies sooner than this after it started counts towards the back-off. */
const EARLY_EXIT_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;

type Pending =
  | { kind: 'run'; resolve: (answer: RunAnswer) => void; reject: (error: unknown) => void; onOutput?: ((batch: OutputMessage) => void) | undefined; session: boolean; started: number }
  | { kind: 'call'; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export type ExecutorClient = ReturnType<typeof createExecutorClient>;

export function createExecutorClient(deps: { config: Config; logger: Logger; first?: ExecutorProcess | undefined }) {
  const { config, logger } = deps;
  let child: ChildProcess | undefined;
  let ready = false;
  let queue: ToExecutor[] = [];
  let closing = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let state: ExecutorState | undefined;
  let crashes = 0;
  const crashesByCause = createReasonCounter();
  let earlyExits = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  /** Sessions of a process that died, by id, with their owner: their next call hears it. */
  const lost = new Map<string, { owner: string; cause: string }>();
  /** Sessions the live process holds, by id, with their owner. */
  const living = new Map<string, string>();
  let readyWaiters: (() => void)[] = [];

  const setState = (next: ExecutorState) => {
    state = next;
    // What the executor holds now (sessions expire there): what a death would lose.
    living.clear();
    for (const s of next.sessions) living.set(s.sessionId, s.owner ?? '');
  };

  const post = (message: ToExecutor) => {
    if (ready && child?.connected) child.send(message);
    else queue.push(message);
  };

  // The executor has no use for the bearer token: it never sees it, in the settings or the environment.
  const settings: Config = { ...config, authToken: undefined };
  const paths: GuardPaths = { packageCacheDir: config.packageCacheDir, pyodideDistDir: config.pyodideDistDir, mountHostDir: config.mountHostDir, mountMode: config.mountMode };
  // The process forked before the settings were read, if it runs under the guards they call for.
  let first = deps.first && samePaths(deps.first.paths, paths) ? deps.first : undefined;
  if (deps.first && !first) deps.first.proc.kill('SIGKILL');
  const spawn = () => {
    const executor = first ?? forkExecutor(paths);
    first = undefined;
    const { proc } = executor;
    child = proc;
    ready = false;
    executor.adopt(
      (message) => {
        if (proc !== child) return;
        // It waits for its settings before it starts anything.
        if (message.t === 'listening') {
          if (proc.connected && !closing) proc.send({ t: 'settings', config: settings } satisfies ToExecutor);
        } else onMessage(message);
      },
      (code, signal) => onExit(proc, code, signal, performance.now() - executor.startedAt),
      (error) => logger.error({ error: String(error) }, 'executor process error'),
    );
  };

  const onMessage = (message: Exclude<FromExecutor, { t: 'listening' }>) => {
    if (message.t === 'hello') {
      ready = true;
      const waiting = queue;
      queue = [];
      for (const m of waiting) child?.send(m);
      for (const wake of readyWaiters) wake();
      readyWaiters = [];
      return;
    }
    if (message.t === 'state') {
      setState(message.state);
      return;
    }
    const call = pending.get(message.id);
    if (message.t === 'output') {
      if (call?.kind === 'run') call.onOutput?.(message.batch);
      return;
    }
    setState(message.state);
    if (!call) return;
    pending.delete(message.id);
    if (message.t === 'done') call.resolve(message.value as never);
    else call.reject(new ExecutorError(message.error.code, message.error.message, { details: message.error.details }));
  };

  const onExit = (proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null, livedMs: number) => {
    if (proc !== child) return;
    child = undefined;
    ready = false;
    if (closing) return;
    const cause = signal ?? `exit code ${code}`;
    crashes += 1;
    crashesByCause.add(cause);
    earlyExits = livedMs < EARLY_EXIT_MS ? earlyExits + 1 : 0;
    logger.error({ pid: proc.pid, cause, livedMs: Math.round(livedMs), inFlight: pending.size }, 'executor process died');
    for (const [id, owner] of living) lost.set(id, { owner, cause });
    living.clear();
    if (state) state = { ...state, sessions: [], stats: { ...state.stats, busy: 0, queued: 0, workers: 0 } };
    const answered = [...pending.values()];
    pending.clear();
    queue = queue.filter((m) => m.t === 'close');
    for (const call of answered) {
      if (call.kind === 'run') call.resolve(exitResult(cause, performance.now() - call.started, call.session));
      else call.reject(exitError(cause));
    }
    // At once the first time; then doubling, so a process that cannot start does not spin.
    const delay = earlyExits <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (earlyExits - 2));
    restartTimer = setTimeout(spawn, delay);
  };

  const call = <K extends CallName>(name: K, ...args: CallMap[K]['args']): Promise<CallMap[K]['value']> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { kind: 'call', resolve: resolve as (value: unknown) => void, reject });
      post({ t: 'call', id, name, args });
    });

  const run = (request: ExecuteRequest, session?: { id: string; owner: string }): Promise<RunAnswer> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const { signal, onOutput, ...rest } = request;
      pending.set(id, { kind: 'run', resolve, reject, onOutput, session: Boolean(session), started: performance.now() });
      post({ t: 'run', id, request: { ...rest, live: Boolean(onOutput) }, sessionId: session?.id, owner: session?.owner });
      const cancel = () => pending.has(id) && post({ t: 'cancel', id });
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });

  spawn();

  return {
    run,
    call,
    /** Resolves once an executor process is up and listening (the first, or a replacement). */
    connected: () => (ready ? Promise.resolve() : new Promise<void>((resolve) => readyWaiters.push(resolve))),
    state: () => state,
    crashes: () => ({ executorCrashes: crashes, executorCrashesByCause: crashesByCause.snapshot() }),
    pid: () => child?.pid,
    sessions: { lost, living },
    async close() {
      closing = true;
      clearTimeout(restartTimer);
      const proc = child;
      if (!proc) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      if (proc.connected) proc.send({ t: 'close' } satisfies ToExecutor);
      const force = setTimeout(() => proc.kill('SIGKILL'), 4000);
      await exited;
      clearTimeout(force);
    },
  };
}

function exitError(cause: string): ExecutorError {
  return new ExecutorError('INTERNAL_ERROR', `The Python process ended (${cause}) during the call; retry it: a new one is starting`, {
    details: { reason: 'EXECUTOR_EXIT', cause },
  });
}

function exitResult(cause: string, elapsedMs: number, session: boolean): RunAnswer {
  const result = failedResult(exitError(cause).toInfo(), elapsedMs, 0, true);
  return session ? { ...result, sessionState: 'lost' } : result;
}
