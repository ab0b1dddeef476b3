import type { ErrorInfo } from '../errors.js';
import { NO_OUTPUT, type ExecutionOutcome } from './messages.js';

/** A run's outcome as the pool reports it; `elapsedMs` is measured here, from start to answer. */
export type PoolResult =
  | (Omit<ExecutionOutcome, 'worker'> & { elapsedMs: number; queuedMs: number; workerRestarted: boolean })
  | { ok: false; cancelled: true; elapsedMs: number; queuedMs: number };

export function timeoutError(limitMs: number, elapsedMs: number, hard: boolean): ErrorInfo {
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

/** An answer for a run that produced nothing of its own (it failed before, or lost its worker). */
export function failedResult(error: ErrorInfo, elapsedMs: number, queuedMs: number, workerRestarted: boolean): PoolResult {
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

/**
 * What a rejected task means: Piscina rejects when the worker died under the run (a JavaScript heap
 * out of memory, an exit). Returns the error for the caller and the replacement's reason.
 */
export function lostWorkerError(rejection: unknown, maxMemoryMb: number): { error: ErrorInfo; reason: string; message: string } {
  const e = rejection as { message?: string; code?: string };
  const message = String(e?.message ?? rejection);
  if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(message)) {
    return {
      reason: 'JavaScript heap out of memory',
      message,
      error: {
        code: 'MEMORY_LIMIT_EXCEEDED',
        message: 'The code used more JavaScript memory than a worker may have; its worker was replaced',
        details: { limitMb: maxMemoryMb, heap: 'javascript' },
      },
    };
  }
  const exit = /worker exited with code: (\d+)/.exec(message);
  return {
    reason: exit ? `worker exited with code ${exit[1]}` : 'worker failed',
    message,
    error: {
      code: 'INTERNAL_ERROR',
      message: `The worker running this code stopped unexpectedly${exit ? ` (exit code ${exit[1]})` : ''}; it has been replaced, other executions are unaffected`,
      details: { reason: 'WORKER_EXIT', exitCode: exit ? Number(exit[1]) : null },
    },
  };
}
