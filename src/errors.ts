import { z } from 'zod';

/** The error codes a tool result can carry. README's table is checked against this list. */
export const ERROR_CODES = [
  'EXECUTION_TIMEOUT',
  'MEMORY_LIMIT_EXCEEDED',
  'PYTHON_ERROR',
  'INVALID_INPUT',
  'PACKAGE_INSTALLATION_ERROR',
  'INTERNAL_ERROR',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** What the model should do next, per code; the first line of every failure's text ends with it. */
export const ERROR_HINTS: Record<ErrorCode, string> = {
  EXECUTION_TIMEOUT: 'make the work smaller or faster, or raise EXECUTION_TIMEOUT_MS',
  MEMORY_LIMIT_EXCEEDED: 'use less memory (process data in chunks), or raise MAX_MEMORY_MB',
  PYTHON_ERROR: 'fix the Python code using the traceback',
  INVALID_INPUT: 'correct the arguments and call again',
  PACKAGE_INSTALLATION_ERROR: 'check the package names and versions, or the network and package settings',
  INTERNAL_ERROR: 'retry the call; if it keeps failing, check the server logs',
};

/**
 * A free-form object. Declared as `additionalProperties: true` in JSON Schema: zod writes `{}` for
 * `unknown`, a schema with no keyword that strict checkers (the MCP Inspector's --strict) flag.
 */
export const FreeFormSchema = () => z.record(z.string(), z.unknown()).meta({ additionalProperties: true });

export const ErrorDetailsSchema = FreeFormSchema();
export type ErrorDetails = z.infer<typeof ErrorDetailsSchema>;

/** The plain-data form of an error: what crosses the worker boundary and what results carry. */
export const ErrorInfoSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: ErrorDetailsSchema.optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

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
