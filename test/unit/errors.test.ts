import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  ERROR_HINTS,
  ExecutorError,
  isExecutorError,
  toExecutorError,
} from '../../src/errors.js';
import { ErrorInfoSchema } from '../../src/server/errorSchema.js';

describe('ExecutorError', () => {
  it('carries its code, message, details and cause', () => {
    const cause = new Error('underlying');
    const error = new ExecutorError('PYTHON_ERROR', 'ValueError: bad', { details: { line: 3 }, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ExecutorError');
    expect(error.code).toBe('PYTHON_ERROR');
    expect(error.message).toBe('ValueError: bad');
    expect(error.details).toEqual({ line: 3 });
    expect(error.cause).toBe(cause);
  });

  it('has no details when none are given', () => {
    expect(new ExecutorError('INTERNAL_ERROR', 'boom').details).toBeUndefined();
  });

  it('gives its plain-data form without a details key when it has none', () => {
    const info = new ExecutorError('EXECUTION_TIMEOUT', 'Execution timed out').toInfo();
    expect(info).toStrictEqual({ code: 'EXECUTION_TIMEOUT', message: 'Execution timed out' });
    expect('details' in info).toBe(false);
  });

  it('gives its plain-data form with details when it has them', () => {
    const info = new ExecutorError('INVALID_INPUT', 'Invalid arguments', { details: { problems: ['x'] } }).toInfo();
    expect(info).toStrictEqual({ code: 'INVALID_INPUT', message: 'Invalid arguments', details: { problems: ['x'] } });
  });

  it('gives a plain-data form that matches ErrorInfoSchema and survives structured cloning', () => {
    const info = new ExecutorError('MEMORY_LIMIT_EXCEEDED', 'too big', { details: { limitMb: 16 } }).toInfo();
    expect(ErrorInfoSchema.parse(info)).toEqual(info);
    expect(structuredClone(info)).toEqual(info);
  });
});

describe('ERROR_HINTS', () => {
  it('has a hint for every error code and nothing else', () => {
    expect(Object.keys(ERROR_HINTS).sort()).toEqual([...ERROR_CODES].sort());
  });
});

describe('isExecutorError', () => {
  it('recognises an ExecutorError', () => {
    expect(isExecutorError(new ExecutorError('PYTHON_ERROR', 'x'))).toBe(true);
  });

  it('recognises any Error whose code is a known error code', () => {
    expect(isExecutorError(Object.assign(new Error('x'), { code: 'EXECUTION_TIMEOUT' }))).toBe(true);
  });

  it('rejects an Error whose code is not one of ours', () => {
    expect(isExecutorError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
  });

  it('rejects an Error without a code', () => {
    expect(isExecutorError(new Error('x'))).toBe(false);
  });

  it('rejects a plain object with the right shape', () => {
    expect(isExecutorError({ code: 'PYTHON_ERROR', message: 'x' })).toBe(false);
  });

  it.each([null, undefined, 'PYTHON_ERROR', 42])('rejects %j', (value) => {
    expect(isExecutorError(value)).toBe(false);
  });
});

describe('toExecutorError', () => {
  it('returns an ExecutorError unchanged', () => {
    const error = new ExecutorError('INVALID_INPUT', 'x');
    expect(toExecutorError(error)).toBe(error);
  });

  it('rebuilds an Error that has our shape, keeping code, message and details, with the original as cause', () => {
    const original = Object.assign(new Error('Execution timed out'), {
      code: 'EXECUTION_TIMEOUT',
      details: { limitMs: 100 },
    });
    const error = toExecutorError(original);
    expect(error).toBeInstanceOf(ExecutorError);
    expect(error.toInfo()).toEqual({ code: 'EXECUTION_TIMEOUT', message: 'Execution timed out', details: { limitMs: 100 } });
    expect(error.cause).toBe(original);
  });

  it('wraps an unknown Error as INTERNAL_ERROR with the original as cause', () => {
    const original = new TypeError('cannot read properties of undefined');
    const error = toExecutorError(original);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toBe('Internal error: cannot read properties of undefined');
    expect(error.cause).toBe(original);
  });

  it('wraps a thrown string as INTERNAL_ERROR with the string as cause', () => {
    const error = toExecutorError('worker exited');
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toBe('Internal error: worker exited');
    expect(error.cause).toBe('worker exited');
  });

  it('wraps a plain object with our shape as INTERNAL_ERROR rather than trusting it', () => {
    const original = { code: 'PYTHON_ERROR', message: 'x' };
    const error = toExecutorError(original);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.cause).toBe(original);
  });

  it('wraps undefined as INTERNAL_ERROR', () => {
    const error = toExecutorError(undefined);
    expect(error.toInfo()).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal error: undefined' });
  });
});
