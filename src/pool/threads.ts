import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { boundText } from '../boundedText.js';
import type { Config } from '../config.js';
import type { Logger } from '../logging.js';
import { retiringBalancer } from './balancer.js';
import type { ExecutionOutcome, WorkerData, WorkerTask } from './messages.js';

export type Threads = Piscina<WorkerTask, ExecutionOutcome | null>;

/** Workers kept warm while no call runs: every MCP client starts a server of its own, so each pays for them. */
export const WARM_WORKERS = 1;
/**
 * Workers kept while calls come: one more than a single caller needs, so that a call never waits
 * for the previous call's reset (the worker puts its memory back after answering). It goes after
 * WORKER_IDLE_TIMEOUT_MS without a call, like any extra worker.
 */
export const ACTIVE_WORKERS = 2;

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

export function jsHeapLimitMb(maxMemoryMb: number): number {
  return Math.min(512, Math.max(64, Math.round(maxMemoryMb / 2)));
}

type WorkerMessage = { type?: string; threadId?: number; error?: string; level?: string; text?: string; reason?: string };

/**
 * The Piscina pool of Pyodide workers: idle, WARM_WORKERS of them; ACTIVE_WORKERS while calls come,
 * more when calls queue, up to MAX_CONCURRENT_EXECUTIONS; each extra one stops after
 * WORKER_IDLE_TIMEOUT_MS without a call.
 */
export type ThreadEvents = {
  onRetire(threadId: number, reason: string): void;
  /** A worker finished starting (or failed to, and now refuses every task): it takes tasks. */
  onUp(threadId?: number): void;
};

export function startThreads(config: Config, workerData: WorkerData, logger: Logger, events: ThreadEvents): Threads {
  const balancer = retiringBalancer(workerData.retiring);
  const threads: Threads = new Piscina({
    filename: WORKER_FILE,
    minThreads: WARM_WORKERS,
    maxThreads: config.maxConcurrentExecutions,
    idleTimeout: config.workerIdleTimeoutMs,
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
    loadBalancer: balancer,
  });
  threads.on('message', (message: WorkerMessage) => {
    if (message?.type === 'worker-retire' && typeof message.threadId === 'number') {
      events.onRetire(message.threadId, boundText(message.reason ?? 'retired'));
    } else if (message?.type === 'worker-up' && typeof message.threadId === 'number') {
      balancer.markUp(message.threadId);
      events.onUp(message.threadId);
    } else if (message?.type === 'worker-fatal') {
      logger.error({ threadId: message.threadId, error: boundText(message.error) }, 'worker failed');
      events.onUp(); // it will not come up: what waits for it must not wait for ever
    } else if (message?.type === 'worker-log') {
      const log = message.level === 'error' ? logger.error.bind(logger) : logger.debug.bind(logger);
      log({ threadId: message.threadId, text: boundText(message.text) }, 'worker console');
    }
  });
  threads.on('error', (error: unknown) => {
    logger.error({ error: String(error) }, 'worker pool error');
    events.onUp();
  });
  return threads;
}
