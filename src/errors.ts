/** The error codes a tool result can carry. README's table is checked against this list. */
export const ERROR_CODES = [
  'EXECUTION_TIMEOUT',
  'MEMORY_LIMIT_EXCEEDED',
  'PYTHON_ERROR',
  'INVALID_INPUT',
  'PACKAGE_INSTALLATION_ERROR',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What the model should do next, per code; the first line of every failure's text ends with it. */
export const ERROR_HINTS: Record<ErrorCode, string> = {
  EXECUTION_TIMEOUT: 'make the work smaller or faster, or raise EXECUTION_TIMEOUT_MS',
  MEMORY_LIMIT_EXCEEDED: 'use less memory (process data in chunks), or raise MAX_MEMORY_MB',
  PYTHON_ERROR: 'fix the Python code using the traceback',
  INVALID_INPUT: 'correct the arguments and call again',
  PACKAGE_INSTALLATION_ERROR: 'check the package names and versions, or the network and package settings',
  INTERNAL_ERROR: 'retry the call; if it keeps failing, check the server logs',
};

/** Facts behind an error (limits, a traceback, a reason): plain data. */
export type ErrorDetails = Record<string, unknown>;

/**
 * The plain-data form of an error: what crosses the process and worker boundaries and what
 * results carry (its schema, for tool results, is in server/errorSchema.ts: this module is
 * imported by the executor process, which never loads zod).
 */
export type ErrorInfo = { code: ErrorCode; message: string; details?: ErrorDetails | undefined };

/** The one error type of the project: a code, a message for the model, and the facts behind it. */
export class ExecutorError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ExecutorError';
    this.code = code;
    this.details = options.details;
  }

  toInfo(): ErrorInfo {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Checks the shape, not `instanceof`: an error from another module copy or realm still counts.
 * (Errors never cross the worker boundary as such: outcomes carry plain ErrorInfo values.)
 */
export function isExecutorError(value: unknown): value is ExecutorError {
  return (
    value instanceof Error &&
    typeof (value as unknown as { code?: unknown }).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((value as unknown as { code: string }).code)
  );
}

/** Anything thrown, as an ExecutorError; unknown faults become INTERNAL_ERROR with the original as cause. */
export function toExecutorError(value: unknown): ExecutorError {
  if (value instanceof ExecutorError) return value;
  if (isExecutorError(value)) {
    return new ExecutorError(value.code, value.message, { details: value.details, cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new ExecutorError('INTERNAL_ERROR', `Internal error: ${message}`, { cause: value });
}
