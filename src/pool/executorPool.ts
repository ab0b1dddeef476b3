import { randomUUID } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { InputFile } from '../runtime/files.js';
import type { PackageSource } from '../runtime/pyodide.js';
import { boundText } from '../boundedText.js';
import { ExecutorError } from '../errors.js';
import type { Logger } from '../logging.js';
import { readHarnessSource, type Snapshot } from './snapshot.js';
import {
  CONTROL,
  STOP_REASON,
  TASK_STATE,
  createControlBlock,
  markTaken,
  type ExecuteTask,
  type ExecutionOutcome,
  type OutputMessage,
  type PackageRecord,
  type WorkerData,
} from './messages.js';
import { createReplacementLog } from './replacements.js';
import { failedResult, lostWorkerError, timeoutError, type PoolResult } from './results.js';
import { STOP_GRACE_MS, createStopper } from './stopper.js';
import { ACTIVE_WORKERS, WARM_WORKERS, startThreads, type Threads } from './threads.js';

export type { PoolResult } from './results.js';
export { jsHeapLimitMb } from './threads.js';

/**
 * The main thread's side of execution: runs a call on a worker of the pool (threads.ts) with the
 * time limit and cancellation (stopper.ts), and replaces workers that fail or cannot be trusted
 * (replacements.ts), so that one bad run never touches any other.
 */

/** Bound on a worker's own preparation before it starts the code (installing new packages). */
const START_DEADLINE_MS = 120_000;
/** How often a task refused by (or lost with) a retiring worker is sent again. */
const MAX_RESUBMITS = 3;
/**
 * Workers in a row that could not start, after which the pool stops starting more in the
 * background and a call fails at once with the reason (each call still tries one fresh worker).
 */
const START_FAILURE_LIMIT = 3;
/** How long a result waits for the live output the worker sent just before it. */
const FINAL_OUTPUT_WAIT_MS = 1000;

export type ExecuteRequest = {
  code: string;
  stdin: string[];
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  executionId?: string;
  /** Live output while the code runs; setting it opens a channel to the worker for this run. */
  onOutput?: ((batch: OutputMessage) => void) | undefined;
  files?: InputFile[] | undefined;
};

export type PoolStats = {
  workers: number;
  maxWorkers: number;
  busy: number;
  queued: number;
  maxQueue: number;
  workerRestarts: number;
  restartsByReason: Record<string, number>;
  /** Workers in a row that could not start (0 once one does), and the last one's reason. */
  startFailures: number;
  lastStartError?: string;
};

export type ExecutorPool = {
  run(request: ExecuteRequest): Promise<PoolResult>;
  stats(): PoolStats;
  /** Resolves when the first worker is ready to run code. */
  ready(): Promise<void>;
  /** Bring idle workers up to date with the installed packages, in the background. */
  syncPackages(): void;
  /** A session's pool: put its worker's interpreter back to its reset point (or replace it). */
  reset(): Promise<void>;
  close(): Promise<void>;
};

export type PoolDeps = {
  config: Config;
  logger: Logger;
  /** The start-up snapshot; the pool starts its workers once it is there. */
  snapshot: Promise<Snapshot>;
  packageSource: Promise<PackageSource>;
  /** Pyodide's WebAssembly, compiled (see pyodideWasm.ts); undefined: each worker compiles it. */
  wasm?: Promise<WebAssembly.Module | undefined>;
  /** The packages every worker must have, in install order (installs append to it). */
  packages: () => PackageRecord[];
  /** Executions wait for this first: PREINSTALLED_PACKAGES are installed "before the first execution". */
  packagesReady?: Promise<void>;
  /** Told when a run starts on a worker (the executor process pushes its figures to the front then). */
  onRunStart?: () => void;
  /** A session's pool: one worker whose state stays between calls. */
  session?: boolean;
};

export function createExecutorPool(deps: PoolDeps): ExecutorPool {
  const { config, logger } = deps;
  const retiring = new Int32Array(new SharedArrayBuffer(4 * 1024));
  const harnessSource = readHarnessSource();
  type Pool = Threads;
  let piscina: Pool | undefined;
  const created: Promise<Pool> = Promise.all([deps.snapshot, deps.packageSource, deps.wasm]).then(([snapshot, packageSource, wasm]) => {
    const workerData: WorkerData = {
      wasm,
      snapshot: snapshot.bytes,
      snapshotReady: snapshot.ready,
      harnessSource,
      maxMemoryMb: config.maxMemoryMb,
      recycleGrowthMb: Math.min(256, Math.max(64, config.maxMemoryMb / 2)),
      maxExecutions: config.workerMaxExecutions,
      packages: packageSource,
      network: config.allowNetwork ? { allowedHosts: [...config.networkAllowedHosts] } : undefined,
      mount: config.mountHostDir ? { hostDir: config.mountHostDir, mode: config.mountMode } : undefined,
      retiring,
      session: Boolean(deps.session),
    };
    piscina = startThreads(config, workerData, logger, { onRetire: (threadId, reason) => retireWorker(threadId, reason), onUp: () => firstWorkerUp() });
    return piscina;
  });
  created.catch((error: unknown) => logger.error({ error: String(error) }, 'Python runtime failed to start'));
  // Piscina starts a new worker for every task that finds none ready, so tasks sent while the
  // first worker is still starting would start several at once, each slowing the others on a
  // machine of few cores (the first call of a cold start waited for two restores, not one).
  // Until a worker is up, tasks wait here instead.
  let firstWorkerUp = () => {};
  const firstWorker = new Promise<void>((resolve) => (firstWorkerUp = resolve));
  const pool = async (): Promise<Pool> => {
    let p: Pool;
    try {
      p = piscina ?? (await created);
    } catch (error) {
      throw new ExecutorError('INTERNAL_ERROR', `The Python runtime failed to start: ${String(error)}`, { cause: error });
    }
    await firstWorker;
    if (closed) {
      throw new ExecutorError('INTERNAL_ERROR', 'The code did not run: its interpreter was shut down first (its session was closed, or the server is stopping)', {
        details: { reason: 'CLOSED' },
      });
    }
    return p;
  };

  let closed = false;
  const replacements = createReplacementLog(logger);
  let busy = 0;
  let waiting = 0;
  let firstReady: Promise<void> | undefined;
  let startFailures = 0;
  let lastStartError: string | undefined;

  const noteRestart = (reason: string, threadId?: number) => {
    replacements.note(reason, threadId);
    if (!closed && startFailures < START_FAILURE_LIMIT) warmUp();
  };

  /** A worker that could not start refuses every task: it is replaced, and the failure counted. */
  const noteOutcome = (outcome: ExecutionOutcome | null) => {
    if (outcome?.startFailed) {
      startFailures += 1;
      lastStartError = boundText(outcome.refused);
      retireWorker(outcome.worker.threadId, 'the Python runtime could not start');
    } else if (!outcome?.refused) {
      startFailures = 0;
    }
  };

  /** Start a worker, or bring one up to date with the installed packages, without running code. */
  const ping = (p: Pool, packages = deps.packages()) =>
    p.run({ kind: 'ping', packages }).then((outcome) => {
      noteOutcome(outcome);
      if (outcome?.refused) throw new Error(outcome.refused);
    });

  /** Start workers up to `target`, in the background, by sending each a no-op task. */
  const warmUp = (target = WARM_WORKERS) => {
    void firstWorker.then(() => {
      if (!piscina || closed) return;
      const missing = Math.min(target, config.maxConcurrentExecutions) - piscina.threads.length;
      for (let i = 0; i < missing; i += 1) {
        ping(piscina).catch(() => {
          /* closing, the queue is full of real work, or the worker could not start (counted) */
        });
      }
    });
  };

  const terminating = new Set<number>();
  const retireWorker = (threadId: number, text: string) => {
    const reason = boundText(text);
    const worker = piscina?.threads.find((w) => w.threadId === threadId);
    if (worker && !terminating.has(threadId)) {
      terminating.add(threadId);
      Atomics.store(retiring, threadId % retiring.length, threadId);
      void worker.terminate().finally(() => {
        terminating.delete(threadId);
        Atomics.compareExchange(retiring, threadId % retiring.length, threadId, 0);
        noteRestart(reason, threadId);
      });
    }
  };

  /** A worker puts its interpreter back after the result has gone out: within the time left. */
  const watchCleanUp = (control: Int32Array, threadId: number, ms: number) => {
    const wait = Atomics.waitAsync(control, CONTROL.STATE, TASK_STATE.CLEANING, ms);
    if (!wait.async) return;
    void wait.value.then((result) => {
      if (result === 'timed-out' && Atomics.load(control, CONTROL.STATE) === TASK_STATE.CLEANING) {
        retireWorker(threadId, 'the clean-up after a run did not finish in time');
      }
    });
  };

  async function run(request: ExecuteRequest): Promise<PoolResult> {
    if (closed) throw new ExecutorError('INTERNAL_ERROR', 'The server is shutting down');
    // Piscina does not bound tasks that carry an AbortSignal (they wait in its skip queue), so the
    // bound is kept here: a call may wait only if a worker is free or a queue slot is.
    if (waiting >= config.maxQueueSize + Math.max(0, config.maxConcurrentExecutions - busy)) {
      throw new ExecutorError(
        'INTERNAL_ERROR',
        `The server is busy: ${busy} executions are running and ${waiting} are waiting (MAX_QUEUE_SIZE=${config.maxQueueSize}); retry later`,
        { details: { reason: 'QUEUE_FULL', running: busy, queued: waiting, maxQueue: config.maxQueueSize } },
      );
    }
    waiting += 1;
    let counted = true;
    const leaveQueue = () => {
      if (counted) waiting -= 1;
      counted = false;
    };
    const piscina = await pool();
    await deps.packagesReady;
    const control = createControlBlock();
    const abort = new AbortController();
    const submitted = performance.now();
    let startedAt: number | undefined;
    const stopper = createStopper(control, abort);
    const timers: NodeJS.Timeout[] = [];
    const clearTimers = () => {
      timers.splice(0).forEach((t) => clearTimeout(t));
      stopper.clear();
    };
    const stop = (reason: number) => stopper.stop(reason);

    const onCancel = () => {
      if (startedAt === undefined) {
        Atomics.store(control, CONTROL.REASON, STOP_REASON.CANCELLED);
        abort.abort('cancelled'); // still queued: Piscina drops it
      } else {
        stop(STOP_REASON.CANCELLED);
      }
    };
    if (request.signal?.aborted) onCancel();
    else request.signal?.addEventListener('abort', onCancel, { once: true });

    // The time limit counts from the moment the worker starts the code, not from the queue.
    const started = Atomics.waitAsync(control, CONTROL.STATE, TASK_STATE.QUEUED, START_DEADLINE_MS + config.maxQueueSize * request.timeoutMs);
    let finished = false;
    void (started.async ? started.value : Promise.resolve()).then(() => {
      // A short run can finish before this callback runs: then there is nothing to time.
      if (finished || Atomics.load(control, CONTROL.STATE) === TASK_STATE.QUEUED) return;
      leaveQueue();
      startedAt = performance.now();
      busy += 1;
      deps.onRunStart?.();
      if (Atomics.load(control, CONTROL.STATE) === TASK_STATE.RUNNING) {
        timers.push(setTimeout(() => stop(STOP_REASON.TIMEOUT), request.timeoutMs));
      }
    });

    // A task can reach a worker that retires before starting it (its last run's clean-up found
    // the interpreter tainted): it is refused, or lost with the worker, and sent again.
    let channel: MessageChannel | undefined;
    const submit = () => {
      channel?.port1.close();
      channel = request.onOutput ? new MessageChannel() : undefined;
      let finalBatch: Promise<void> = Promise.resolve();
      if (channel && request.onOutput) {
        const listener = request.onOutput;
        let received: () => void = () => {};
        finalBatch = new Promise<void>((r) => (received = r));
        channel.port1.on('message', (batch: OutputMessage) => {
          listener(batch);
          if (batch.final) received();
        });
      }
      const task: ExecuteTask = {
        kind: 'execute',
        executionId: request.executionId ?? randomUUID(),
        code: request.code,
        stdin: request.stdin,
        timeoutMs: request.timeoutMs,
        maxOutputBytes: config.maxOutputBytes,
        control: control.buffer as SharedArrayBuffer,
        packages: deps.packages(),
        outputPort: channel?.port2,
        files: request.files,
        outputs: { maxFiles: config.maxOutputFiles, maxBytes: config.maxOutputFilesBytes },
      };
      const transferList = channel ? [channel.port2] : [];
      return { finalBatch, run: piscina.run(task, { signal: abort.signal, transferList }) as Promise<ExecutionOutcome> };
    };
    const neverStarted = () =>
      Atomics.load(control, CONTROL.STATE) === TASK_STATE.QUEUED && Atomics.load(control, CONTROL.REASON) === STOP_REASON.NONE && !closed;

    try {
      let outcome: ExecutionOutcome;
      for (let attempt = 0; ; attempt += 1) {
        const submission = submit();
        // Queued behind this call, a ping starts the spare worker (ACTIVE_WORKERS) if it is not there.
        if (attempt === 0 && !deps.session && startFailures === 0) warmUp(ACTIVE_WORKERS);
        try {
          outcome = await submission.run;
          markTaken(control);
        } catch (error) {
          if (attempt < MAX_RESUBMITS && neverStarted()) continue;
          throw error;
        }
        noteOutcome(outcome);
        if (outcome.refused && attempt < MAX_RESUBMITS && !(outcome.startFailed && startFailures >= START_FAILURE_LIMIT)) continue;
        // Two ports keep no common order: the result may overtake the last batch of output. The
        // worker sent that batch before its result, so the wait is short; it is bounded all the same.
        if (channel) await Promise.race([submission.finalBatch, new Promise<void>((r) => setTimeout(r, FINAL_OUTPUT_WAIT_MS).unref())]);
        break;
      }
      finished = true;
      const { worker, ...rest } = outcome;
      if (rest.startFailed) {
        const waited = performance.now() - submitted;
        return failedResult(
          {
            code: 'INTERNAL_ERROR',
            message: `No worker could run the code: ${boundText(rest.refused)}. The server keeps trying a new worker on each call; the server log has the details`,
            details: { reason: 'RUNTIME_START_FAILED', startFailures },
          },
          0,
          waited,
          false,
        );
      }
      if (rest.refused) throw new Error(`no worker could take the task (${boundText(rest.refused)})`);
      if (rest.retire) retireWorker(worker.threadId, rest.retire);
      const now = performance.now();
      const start = startedAt ?? now - rest.durationMs;
      const elapsedMs = now - start;
      const queuedMs = Math.max(0, start - submitted);
      if (rest.cleaning) watchCleanUp(control, worker.threadId, Math.max(0, request.timeoutMs - elapsedMs) + STOP_GRACE_MS);
      delete rest.cleaning;
      if (rest.cancelled) return { ok: false, cancelled: true, elapsedMs, queuedMs };
      if (rest.error?.code === 'EXECUTION_TIMEOUT') rest.error = timeoutError(request.timeoutMs, elapsedMs, false);
      return { ...rest, elapsedMs, queuedMs, workerRestarted: Boolean(rest.retire) };
    } catch (error) {
      finished = true;
      const elapsedMs = performance.now() - (startedAt ?? submitted);
      const queuedMs = (startedAt ?? submitted) - submitted;
      const reason = Atomics.load(control, CONTROL.REASON);
      if (reason === STOP_REASON.CANCELLED) {
        if (stopper.hardStopped) noteRestart('cancelled run did not stop');
        return { ok: false, cancelled: true, elapsedMs, queuedMs };
      }
      if (reason === STOP_REASON.TIMEOUT && stopper.hardStopped) {
        noteRestart('timed-out run did not stop');
        return failedResult(timeoutError(request.timeoutMs, elapsedMs, true), elapsedMs, queuedMs, true);
      }
      return handleRejection(error, elapsedMs, queuedMs);
    } finally {
      finished = true;
      channel?.port1.close();
      leaveQueue();
      clearTimers();
      request.signal?.removeEventListener('abort', onCancel);
      if (startedAt !== undefined) busy -= 1;
      // Wakes the start watcher if the task never started (refused or dropped from the queue).
      if (Atomics.compareExchange(control, CONTROL.STATE, TASK_STATE.QUEUED, TASK_STATE.DONE) === TASK_STATE.QUEUED) {
        Atomics.notify(control, CONTROL.STATE);
      }
    }
  }

  function handleRejection(rejection: unknown, elapsedMs: number, queuedMs: number): PoolResult {
    const lost = lostWorkerError(rejection, config.maxMemoryMb);
    noteRestart(lost.reason);
    if (lost.error.code !== 'MEMORY_LIMIT_EXCEEDED') logger.error({ error: lost.message.slice(0, 1000) }, 'execution lost its worker');
    return failedResult(lost.error, elapsedMs, queuedMs, true);
  }

  return {
    run,
    stats: () => ({
      workers: piscina?.threads.length ?? 0,
      maxWorkers: config.maxConcurrentExecutions,
      busy,
      queued: waiting,
      maxQueue: config.maxQueueSize,
      workerRestarts: replacements.total,
      restartsByReason: replacements.byReason(),
      startFailures,
      ...(lastStartError ? { lastStartError } : {}),
    }),
    ready() {
      firstReady ??= pool()
        .then((p) => ping(p, []))
        .then(() => warmUp());
      return firstReady;
    },
    async reset() {
      const p = await pool();
      const outcome = await p.run({ kind: 'reset', packages: deps.packages() });
      if (outcome?.refused) retireWorker(outcome.worker.threadId, outcome.refused);
    },
    syncPackages() {
      void firstWorker.then(() => {
        if (!piscina || closed) return;
        for (let i = 0; i < piscina.threads.length; i += 1) ping(piscina).catch(() => {});
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      firstWorkerUp(); // what waits for a worker now fails as closed, instead of waiting for ever
      const p = piscina ?? (await created.catch(() => undefined));
      await p?.destroy();
    },
  };
}
