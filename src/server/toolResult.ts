import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ERROR_HINTS, type ErrorInfo } from '../errors.js';
import { ErrorInfoSchema } from './errorSchema.js';

/**
 * One place decides what every tool result looks like: a text for the model, the same facts as
 * `structuredContent` (matching the tool's outputSchema, failures included, since the SDK's client
 * validates both), and `isError` for failures. Failures are results, never protocol errors.
 */

export const StatusSchema = z.enum(['success', 'error']);

/** Fields every tool's structured result has. */
export const BaseResultShape = {
  status: StatusSchema.describe('success, or error with `error` set'),
  error: ErrorInfoSchema.optional().describe('What went wrong: a code from the documented list, a message, details'),
};

/** The first line of a failure's text: code, message, and what to do next (the error's own hint first). */
export function errorHeadline(error: ErrorInfo): string {
  // One line: a multi-line message (pydantic, ValueError("a\nb")) keeps its first line here and
  // stays whole in structuredContent and the traceback.
  const [first = '', ...rest] = error.message.split('\n');
  const message = `${first.trimEnd()}${rest.some((line) => line.trim()) ? ' …' : ''}`.replace(/\.+$/, '');
  // A failure may name its own next step: details.hint (install a package, use top-level await) or
  // details.next (raise timeoutMs, check the network); either is more use than the code's general one.
  const own = [error.details?.hint, error.details?.next].find((x): x is string => typeof x === 'string');
  const next = own ?? ERROR_HINTS[error.code];
  return `${error.code}: ${message}. Next: ${next.replace(/\.+$/, '')}.`;
}

/** A result from its text and structured form; `isError` follows `structured.status`. */
export function toToolResult<S extends { status: 'success' | 'error' }>(text: string, structured: S): CallToolResult {
  const result: CallToolResult = {
    content: [{ type: 'text', text }],
    structuredContent: structured as Record<string, unknown>,
  };
  if (structured.status === 'error') result.isError = true;
  return result;
}

/** A failure result for any tool: `empty` supplies the tool's other required fields. */
export function toErrorResult<S extends Record<string, unknown>>(error: ErrorInfo, empty: S): CallToolResult {
  const lines = [errorHeadline(error)];
  const details = error.details ?? {};
  if (typeof details.traceback === 'string' && details.traceback) lines.push('', details.traceback.trimEnd());
  return toToolResult(lines.join('\n'), { ...empty, status: 'error' as const, error });
}
