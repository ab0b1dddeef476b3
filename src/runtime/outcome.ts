import type { ErrorInfo } from '../errors.js';
import { STOP_REASON } from './control.js';
import { hintFor } from './hints.js';

/**
 * What a run's end means for its caller: the error code, message and details of a Python
 * exception, a stop, a memory limit, or an interpreter that died.
 */

const MIB = 1024 * 1024;

/** A Python exception as the runner describes it (runner.py describe). */
export type Described = {
  ok: boolean;
  type?: string;
  message?: string;
  line?: number | null;
  traceback?: string;
  errno?: number | null;
};

export function classify(input: {
  described: Described | undefined;
  maxMemoryBytes: number;
  /** The conversion meter stopped a copy. */
  meterExceeded: boolean;
  thrown: unknown;
  reason: number;
  memoryDenied: boolean;
  quota: boolean;
}): { ok: boolean; error?: ErrorInfo; cancelled?: boolean; fatal?: string } {
  const { described, thrown, reason } = input;
  const stopped = reason !== STOP_REASON.NONE;
  if (thrown === undefined && (!described || described.ok)) return { ok: true };
  const type = described?.type ?? '';
  if (stopped && (thrown !== undefined || type === 'KeyboardInterrupt' || type === 'CancelledError')) {
    if (reason === STOP_REASON.CANCELLED) return { ok: false, cancelled: true };
    return { ok: false, error: { code: 'EXECUTION_TIMEOUT', message: 'Execution timed out' } };
  }
  if (described) {
    if (input.meterExceeded) {
      return { ok: false, error: memoryError('The code copied more data to JavaScript than the memory limit allows', described, input.maxMemoryBytes) };
    }
    if (type === 'MemoryError' || (input.memoryDenied && /Error$/.test(type))) {
      return { ok: false, error: memoryError('Python ran out of memory', described, input.maxMemoryBytes) };
    }
    if (input.quota && described.errno === 51) {
      return {
        ok: false,
        error: memoryError('Files written by the code exceeded the memory limit', described, input.maxMemoryBytes),
      };
    }
    const where = described.line ? ` (line ${described.line})` : '';
    const hint = hintFor({ type, message: described.message ?? '', traceback: described.traceback ?? '' });
    return {
      ok: false,
      error: {
        code: 'PYTHON_ERROR',
        message: `${type}: ${described.message ?? ''}${where}`.trim(),
        details: {
          type,
          message: described.message ?? '',
          line: described.line ?? null,
          traceback: described.traceback ?? '',
          ...(hint ? { hint } : {}),
        },
      },
    };
  }
  return classifyThrown(thrown, input.memoryDenied);
}

function memoryError(message: string, described: Described, maxMemoryBytes: number): ErrorInfo {
  return {
    code: 'MEMORY_LIMIT_EXCEEDED',
    message: `${message} (limit ${Math.round(maxMemoryBytes / MIB)} MiB)`,
    details: {
      limitMb: Math.round(maxMemoryBytes / MIB),
      type: described.type ?? 'MemoryError',
      traceback: described.traceback ?? '',
    },
  };
}

/** Whether an error out of Pyodide means the interpreter cannot be used again. */
export function isFatal(thrown: unknown): boolean {
  const e = thrown as { name?: string; message?: string; pyodide_fatal_error?: boolean } | undefined;
  if (e?.name === 'PythonError') return false; // a Python exception that reached JavaScript: survivable
  return true;
}

/** A JavaScript error out of Pyodide: the interpreter died (os._exit, stack overflow) or broke. */
export function classifyThrown(thrown: unknown, memoryDenied: boolean): { ok: false; error: ErrorInfo; fatal: string } {
  const error = thrown as { name?: string; message?: string; status?: number; errno?: number };
  const message = String(error?.message ?? (error?.errno !== undefined ? `file system error ${error.errno}` : thrown));
  if (error?.name === 'ExitStatus' || /Program terminated with exit\((\d+)\)/.test(message)) {
    const status = error.status ?? Number(/exit\((\d+)\)/.exec(message)?.[1] ?? 0);
    return {
      ok: false,
      fatal: 'the code ended the interpreter',
      error: {
        code: 'PYTHON_ERROR',
        message: `The code ended the Python process with exit status ${status} (os._exit or similar)`,
        details: { type: 'SystemExit', exitStatus: status },
      },
    };
  }
  if (/Maximum call stack size exceeded|stack overflow/i.test(message)) {
    return {
      ok: false,
      fatal: 'stack overflow',
      error: {
        code: 'PYTHON_ERROR',
        message: 'RecursionError: the code recursed so deep that the interpreter stack overflowed',
        details: { type: 'RecursionError' },
      },
    };
  }
  if (memoryDenied || /out of memory|Cannot enlarge memory|memory limit/i.test(message)) {
    return {
      ok: false,
      fatal: 'out of memory',
      error: { code: 'MEMORY_LIMIT_EXCEEDED', message: 'Python ran out of memory and its interpreter stopped' },
    };
  }
  return {
    ok: false,
    fatal: `the interpreter failed: ${message.split('\n')[0]}`,
    error: { code: 'INTERNAL_ERROR', message: `The Python interpreter failed: ${message.split('\n')[0]}` },
  };
}
