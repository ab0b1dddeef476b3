import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/metrics.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('Metrics', () => {
  it('starts with nothing counted and a success rate of 1', () => {
    expect(new Metrics(fakeClock().now).snapshot()).toEqual({
      totalExecutions: 0,
      successfulExecutions: 0,
      totalErrors: 0,
      successRate: 1,
      averageExecutionTimeMs: 0,
      averageMemoryUsageMb: 0,
      peakMemoryUsageMb: 0,
      errorsByCode: {},
      timeouts: 0,
      memoryLimitErrors: 0,
      cancelled: 0,
      rejectedByQueue: 0,
      packagesInstalled: 0,
      uptimeMs: 0,
    });
  });

  it('counts executions, successes and errors', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 10 });
    metrics.record({ durationMs: 10 });
    metrics.record({ durationMs: 10, errorCode: 'PYTHON_ERROR' });
    expect(metrics.snapshot()).toMatchObject({ totalExecutions: 3, successfulExecutions: 2, totalErrors: 1 });
  });

  it('gives the success rate rounded to two decimals', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 1 });
    metrics.record({ durationMs: 1 });
    metrics.record({ durationMs: 1, errorCode: 'PYTHON_ERROR' });
    expect(metrics.snapshot().successRate).toBe(0.67);
  });

  it('gives a success rate of 0 when every execution failed', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 1, errorCode: 'INTERNAL_ERROR' });
    expect(metrics.snapshot().successRate).toBe(0);
  });

  it('averages execution time over all executions, rounded to two decimals', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 10 });
    metrics.record({ durationMs: 20 });
    metrics.record({ durationMs: 0, errorCode: 'INVALID_INPUT' });
    expect(metrics.snapshot().averageExecutionTimeMs).toBe(10);
  });

  it('averages memory only over executions that reported it, and keeps the peak', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 1, memoryMb: 30 });
    metrics.record({ durationMs: 1 });
    metrics.record({ durationMs: 1, memoryMb: 45.555 });
    const snapshot = metrics.snapshot();
    expect(snapshot.averageMemoryUsageMb).toBe(37.78);
    expect(snapshot.peakMemoryUsageMb).toBe(45.56);
  });

  it('counts errors by code, with timeouts and memory errors also on their own', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 1, errorCode: 'EXECUTION_TIMEOUT' });
    metrics.record({ durationMs: 1, errorCode: 'EXECUTION_TIMEOUT' });
    metrics.record({ durationMs: 1, errorCode: 'MEMORY_LIMIT_EXCEEDED' });
    metrics.record({ durationMs: 1, errorCode: 'PYTHON_ERROR' });
    expect(metrics.snapshot()).toMatchObject({
      errorsByCode: { EXECUTION_TIMEOUT: 2, MEMORY_LIMIT_EXCEEDED: 1, PYTHON_ERROR: 1 },
      timeouts: 2,
      memoryLimitErrors: 1,
    });
  });

  it('gives a copy of errorsByCode that callers cannot change', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.record({ durationMs: 1, errorCode: 'PYTHON_ERROR' });
    metrics.snapshot().errorsByCode.PYTHON_ERROR = 99;
    expect(metrics.snapshot().errorsByCode).toEqual({ PYTHON_ERROR: 1 });
  });

  it('counts cancelled calls apart from executions', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.recordCancelled();
    metrics.recordCancelled();
    expect(metrics.snapshot()).toMatchObject({ cancelled: 2, totalExecutions: 0, totalErrors: 0 });
  });

  it('counts queue rejections', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.recordQueueRejection();
    expect(metrics.snapshot().rejectedByQueue).toBe(1);
  });

  it('adds up installed packages', () => {
    const metrics = new Metrics(fakeClock().now);
    metrics.recordPackagesInstalled(2);
    metrics.recordPackagesInstalled(3);
    expect(metrics.snapshot().packagesInstalled).toBe(5);
  });

  it('measures uptime from construction with the injected clock, rounded to whole ms', () => {
    const clock = fakeClock(5000);
    const metrics = new Metrics(clock.now);
    clock.advance(1234.6);
    expect(metrics.snapshot().uptimeMs).toBe(1235);
  });
});
