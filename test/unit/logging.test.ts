import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';

/** A destination that keeps every line pino writes, parsed. */
function memoryDestination() {
  const lines: string[] = [];
  return {
    write(chunk: string) {
      lines.push(...chunk.split('\n').filter(Boolean));
    },
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function logger(level: 'debug' | 'info' | 'error' = 'info') {
  const destination = memoryDestination();
  return { log: createLogger({ logLevel: level, logFormat: 'json' }, destination), destination };
}

describe('createLogger', () => {
  it('writes one JSON object per line', () => {
    const { log, destination } = logger();
    log.info('first');
    log.info('second');
    expect(destination.lines).toHaveLength(2);
    expect(destination.records().map((r) => r.message)).toEqual(['first', 'second']);
  });

  it('gives the level as its label, not a number', () => {
    const { log, destination } = logger();
    log.error('broken');
    expect(destination.records()[0]?.level).toBe('error');
  });

  it('gives the time as an ISO 8601 string', () => {
    const { log, destination } = logger();
    log.info('now');
    const time = destination.records()[0]?.time;
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(time as string).toISOString()).toBe(time);
  });

  it('puts the message under "message" and the process id under "pid"', () => {
    const { log, destination } = logger();
    log.info('server started');
    expect(destination.records()[0]).toMatchObject({ message: 'server started', pid: process.pid });
    expect(destination.records()[0]).not.toHaveProperty('msg');
  });

  it('nests the object passed with a call under "context"', () => {
    const { log, destination } = logger();
    log.info({ durationMs: 12, outcome: 'SUCCESS' }, 'execution finished');
    const record = destination.records()[0];
    expect(record?.context).toEqual({ durationMs: 12, outcome: 'SUCCESS' });
    expect(record).not.toHaveProperty('durationMs');
  });

  it('writes no "context" when a call passes only a message', () => {
    const { log, destination } = logger();
    log.info('plain');
    expect(destination.records()[0]).not.toHaveProperty('context');
  });

  it("puts a child's bindings at the top level, beside the call's context", () => {
    const { log, destination } = logger();
    log.child({ tool: 'execute_python', executionId: 'abc' }).info({ durationMs: 1 }, 'execution finished');
    expect(destination.records()[0]).toMatchObject({
      tool: 'execute_python',
      executionId: 'abc',
      context: { durationMs: 1 },
      message: 'execution finished',
    });
  });

  it('writes the keys README documents, in a stable order', () => {
    const { log, destination } = logger();
    log.child({ tool: 'execute_python' }).info({ outcome: 'SUCCESS' }, 'execution finished');
    expect(Object.keys(destination.records()[0] ?? {})).toEqual(['level', 'time', 'pid', 'tool', 'context', 'message']);
  });

  it('hides debug lines at level info', () => {
    const { log, destination } = logger('info');
    log.debug({ code: 'print(1)' }, 'execution code');
    log.info('shown');
    expect(destination.records().map((r) => r.message)).toEqual(['shown']);
  });

  it('shows debug lines at level debug', () => {
    const { log, destination } = logger('debug');
    log.debug({ code: 'print(1)' }, 'execution code');
    expect(destination.records()[0]).toMatchObject({ level: 'debug', context: { code: 'print(1)' } });
  });

  it('shows only errors at level error', () => {
    const { log, destination } = logger('error');
    log.debug('d');
    log.info('i');
    log.error('e');
    expect(destination.records().map((r) => r.level)).toEqual(['error']);
  });

  it('applies the level to child loggers too', () => {
    const { log, destination } = logger('info');
    log.child({ tool: 'x' }).debug('hidden');
    expect(destination.lines).toEqual([]);
  });
});
