import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Config } from '../config.js';
import type { InputFile } from '../runtime/files.js';
import type { PackageSource } from '../runtime/pyodide.js';
import { boundText, createReasonCounter } from '../boundedText.js';
import { ExecutorError, type ErrorInfo } from '../errors.js';
import type { Logger } from '../logging.js';
import { retiringBalancer } from './balancer.js';
import { readHarnessSource } from './snapshot.js';
import {
  CONTROL,
  NO_OUTPUT,
  SIGINT,
  STOP_REASON,
  TASK_STATE,
  createControlBlock,
  requestStop,
  type ExecuteTask,
  type ExecutionOutcome,
  type OutputMessage,
  type PackageRecord,
  type WorkerData,
  type WorkerTask,
} from './messages.js';

/**
 * The main thread's side of execution: a Piscina pool of warm Pyodide workers, with the time
 * limit, cancellation, and worker replacement that keep one bad run from touching any other.
 *
 * Stopping a run takes two steps. First a SIGINT through the task's shared control block raises
 * KeyboardInterrupt inside Python, so the worker and its loaded packages survive. If Python has not
 * returned after a grace period (a single long C call, code that swallows the interrupt), the task
 * is aborted: Piscina terminates that worker and the pool starts a replacement in the background.
 */

/** How long Python gets to honour an interrupt before its worker is terminated. */
export const STOP_GRACE_MS = 1000;
/**
 * When the interrupt is sent again: soon after the first (Pyodide reads and then clears the
 * interrupt word without an atomic exchange, so a signal written in between is lost: measured,
 * about one in five), then steadily, for code that catches a KeyboardInterrupt and carries on.
 */
const INTERRUPT_RESEND_MS = [2, 10, 30];
const INTERRUPT_REPEAT_MS = 100;
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

/** A run's outcome as the pool reports it; `elapsedMs` is measured here, from start to answer. */
export type PoolResult =
  | (Omit<ExecutionOutcome, 'worker'> & { elapsedMs: number; queuedMs: number; workerRestarted: boolean })
  | { ok: false; cancelled: true; elapsedMs: number; queuedMs: number };

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
  snapshot: Promise<Uint8Array>;
  packageSource: Promise<PackageSource>;
  /** The packages every worker must have, in install order (installs append to it). */
  packages: () => PackageRecord[];
  /** Executions wait for this first: PREINSTALLED_PACKAGES are installed "before the first execution". */
  packagesReady?: Promise<void>;
  /** A session's pool: one worker whose state stays between calls. */
  session?: boolean;
};

export function jsHeapLimitMb(maxMemoryMb: number): number {
  return Math.min(512, Math.max(64, Math.round(maxMemoryMb / 2)));
}

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

export function createExecutorPool(deps: PoolDeps): ExecutorPool {
  const { config, logger } = deps;
  const retiring = new Int32Array(new SharedArrayBuffer(4 * 1024));
  const harnessSource = readHarnessSource();
  type Pool = Piscina<WorkerTask, ExecutionOutcome | null>;
  let piscina: Pool | undefined;
  const created: Promise<Pool> = Promise.all([deps.snapshot, deps.packageSource]).then(([snapshot, packageSource]) => {
    const workerData: WorkerData = {
      snapshot,
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
    piscina = new Piscina({
      filename: WORKER_FILE,
      // One worker at start keeps the cold start short; the others start right after it
      // (warmUp), and whenever calls queue.
      minThreads: 1,
      maxThreads: config.maxConcurrentExecutions,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // First come, first served: without it, a task the balancer passes over goes to the tail.
      stricterFIFO: true,
      // Event-driven workers: Atomics-based idling would freeze the worker's event loop between
      // tasks, and Pyodide's asyncio needs it.
      atomics: 'disabled',
      env: {},
      // The JavaScript heap of a worker (Pyodide's own objects, about 16 MB, plus whatever Python
      // converts to JavaScript) is capped too: half the memory limit, within 64–512 MB.
      resourceLimits: { maxOldGenerationSizeMb: jsHeapLimitMb(config.maxMemoryMb), maxYoungGenerationSizeMb: 16 },
      workerData,
      loadBalancer: retiringBalancer(retiring),
    });
    piscina.on('message', (message: { type?: string; threadId?: number; error?: string; level?: string; text?: string; reason?: string }) => {
      if (message?.type === 'worker-retire' && typeof message.threadId === 'number') {
        retireWorker(message.threadId, boundText(message.reason ?? 'retired'));
      } else if (message?.type === 'worker-fatal') {
        logger.error({ threadId: message.threadId, error: boundText(message.error) }, 'worker failed');
      } else if (message?.type === 'worker-log') {
        const log = message.level === 'error' ? logger.error.bind(logger) : logger.debug.bind(logger);
        log({ threadId: message.threadId, text: boundText(message.text) }, 'worker console');
      }
    });
    piscina.on('error', (error: unknown) => {
      logger.error({ error: String(error) }, 'worker pool error');
    });
    return piscina;
  });
  created.catch((error: unknown) => logger.error({ error: String(error) }, 'Python runtime failed to start'));
  const pool = async (): Promise<Pool> => {
    try {
      return piscina ?? (await created);
    } catch (error) {
      throw new ExecutorError('INTERNAL_ERROR', `The Python runtime failed to start: ${String(error)}`, { cause: error });
    }
  };

  let closed = false;
  let restarts = 0;
  const restartsByReason = createReasonCounter();
  let busy = 0;
  let waiting = 0;
  let firstReady: Promise<void> | undefined;
  let startFailures = 0;
  let lastStartError: string | undefined;

  const noteRestart = (reason: string, threadId?: number) => {
    restarts += 1;
    restartsByReason.add(reason.replace(/\d+/g, 'N'));
    logger.info({ threadId, reason }, 'worker replaced');
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

  /** Start workers up to the limit, in the background, by sending each a no-op task. */
  const warmUp = () => {
    if (!piscina) return;
    const missing = config.maxConcurrentExecutions - piscina.threads.length;
    for (let i = 0; i < missing; i += 1) {
      ping(piscina).catch(() => {
        /* closing, the queue is full of real work, or the worker could not start (counted) */
      });
    }
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
    let hardStopped = false;
    const timers: NodeJS.Timeout[] = [];
    const clearTimers = () => timers.splice(0).forEach((t) => clearTimeout(t));

    const stop = (reason: number) => {
      requestStop(control, reason);
      const resend = () => {
        Atomics.store(control, CONTROL.INTERRUPT, SIGINT);
        Atomics.notify(control, CONTROL.INTERRUPT);
      };
      for (const ms of INTERRUPT_RESEND_MS) timers.push(setTimeout(resend, ms));
      timers.push(setInterval(resend, INTERRUPT_REPEAT_MS));
      timers.push(
        setTimeout(() => {
          hardStopped = true;
          abort.abort(reason === STOP_REASON.TIMEOUT ? 'timeout' : 'cancelled');
        }, STOP_GRACE_MS),
      );
    };

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
        try {
          outcome = await submission.run;
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
        return failed(
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
        if (hardStopped) noteRestart('cancelled run did not stop');
        return { ok: false, cancelled: true, elapsedMs, queuedMs };
      }
      if (reason === STOP_REASON.TIMEOUT && hardStopped) {
        noteRestart('timed-out run did not stop');
        return failed(timeoutError(request.timeoutMs, elapsedMs, true), elapsedMs, queuedMs, true);
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

  function handleRejection(error: unknown, elapsedMs: number, queuedMs: number): PoolResult {
    const e = error as { message?: string; code?: string };
    const message = String(e?.message ?? error);
    if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(message)) {
      noteRestart('JavaScript heap out of memory');
      return failed(
        {
          code: 'MEMORY_LIMIT_EXCEEDED',
          message: 'The code used more JavaScript memory than a worker may have; its worker was replaced',
          details: { limitMb: config.maxMemoryMb, heap: 'javascript' },
        },
        elapsedMs,
        queuedMs,
        true,
      );
    }
    const exit = /worker exited with code: (\d+)/.exec(message);
    noteRestart(exit ? `worker exited with code ${exit[1]}` : 'worker failed');
    logger.error({ error: message }, 'execution lost its worker');
    return failed(
      {
        code: 'INTERNAL_ERROR',
        message: `The worker running this code stopped unexpectedly${exit ? ` (exit code ${exit[1]})` : ''}; it has been replaced, other executions are unaffected`,
        details: { reason: 'WORKER_EXIT', exitCode: exit ? Number(exit[1]) : null },
      },
      elapsedMs,
      queuedMs,
      true,
    );
  }

  function timeoutError(limitMs: number, elapsedMs: number, hard: boolean): ErrorInfo {
    return {
      code: 'EXECUTION_TIMEOUT',
      message: `Execution exceeded the time limit of ${limitMs} ms (stopped after ${Math.round(elapsedMs)} ms)`,
      details: {
        timeoutMs: limitMs,
        elapsedMs: Math.round(elapsedMs),
        stoppedBy: hard ? 'worker terminated (the code ignored the interrupt)' : 'interrupt',
      },
    };
  }

  function failed(error: ErrorInfo, elapsedMs: number, queuedMs: number, workerRestarted: boolean): PoolResult {
    return {
      ok: false,
      stdout: NO_OUTPUT,
      stderr: NO_OUTPUT,
      result: null,
      error,
      durationMs: elapsedMs,
      memory: { wasmMb: 0, grewMb: 0 },
      files: [],
      elapsedMs,
      queuedMs,
      workerRestarted,
    };
  }

  return {
    run,
    stats: () => ({
      workers: piscina?.threads.length ?? 0,
      maxWorkers: config.maxConcurrentExecutions,
      busy,
      queued: waiting,
      maxQueue: config.maxQueueSize,
      workerRestarts: restarts,
      restartsByReason: restartsByReason.snapshot(),
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
      if (!piscina || closed) return;
      for (let i = 0; i < piscina.threads.length; i += 1) {
        ping(piscina).catch(() => {});
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await piscina?.destroy();
    },
  };
}
