import type { ErrorCode } from './errors.js';

/** One finished call, as the metrics count it. */
export type ExecutionRecord = {
  durationMs: number;
  memoryMb?: number | undefined;
  errorCode?: ErrorCode | undefined;
};

export type MetricsSnapshot = {
  totalExecutions: number;
  successfulExecutions: number;
  totalErrors: number;
  successRate: number;
  averageExecutionTimeMs: number;
  averageMemoryUsageMb: number;
  peakMemoryUsageMb: number;
  errorsByCode: Partial<Record<ErrorCode, number>>;
  timeouts: number;
  memoryLimitErrors: number;
  cancelled: number;
  rejectedByQueue: number;
  packagesInstalled: number;
  uptimeMs: number;
};

/** Counters for health_check; pure (no timers), with the clock injectable for tests. */
export class Metrics {
  readonly #startedAt: number;
  #total = 0;
  #errors = 0;
  #totalTimeMs = 0;
  #memorySamples = 0;
  #totalMemoryMb = 0;
  #peakMemoryMb = 0;
  #cancelled = 0;
  #rejectedByQueue = 0;
  #packagesInstalled = 0;
  readonly #byCode: Partial<Record<ErrorCode, number>> = {};

  constructor(private readonly now: () => number = () => performance.now()) {
    this.#startedAt = now();
  }

  /** Counts an execution that ran (or was refused) and produced a result. */
  record(entry: ExecutionRecord): void {
    this.#total += 1;
    this.#totalTimeMs += entry.durationMs;
    if (entry.memoryMb !== undefined) {
      this.#memorySamples += 1;
      this.#totalMemoryMb += entry.memoryMb;
      this.#peakMemoryMb = Math.max(this.#peakMemoryMb, entry.memoryMb);
    }
    if (entry.errorCode !== undefined) {
      this.#errors += 1;
      this.#byCode[entry.errorCode] = (this.#byCode[entry.errorCode] ?? 0) + 1;
    }
  }

  /** A call the client cancelled: no result was sent, so it is not an execution. */
  recordCancelled(): void {
    this.#cancelled += 1;
  }

  recordQueueRejection(): void {
    this.#rejectedByQueue += 1;
  }

  recordPackagesInstalled(count: number): void {
    this.#packagesInstalled += count;
  }

  snapshot(): MetricsSnapshot {
    const round = (n: number) => Math.round(n * 100) / 100;
    const successful = this.#total - this.#errors;
    return {
      totalExecutions: this.#total,
      successfulExecutions: successful,
      totalErrors: this.#errors,
      successRate: this.#total === 0 ? 1 : round(successful / this.#total),
      averageExecutionTimeMs: this.#total === 0 ? 0 : round(this.#totalTimeMs / this.#total),
      averageMemoryUsageMb: this.#memorySamples === 0 ? 0 : round(this.#totalMemoryMb / this.#memorySamples),
      peakMemoryUsageMb: round(this.#peakMemoryMb),
      errorsByCode: { ...this.#byCode },
      timeouts: this.#byCode.EXECUTION_TIMEOUT ?? 0,
      memoryLimitErrors: this.#byCode.MEMORY_LIMIT_EXCEEDED ?? 0,
      cancelled: this.#cancelled,
      rejectedByQueue: this.#rejectedByQueue,
      packagesInstalled: this.#packagesInstalled,
      uptimeMs: Math.round(this.now() - this.#startedAt),
    };
  }
}
