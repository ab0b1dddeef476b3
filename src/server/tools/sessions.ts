import { z } from 'zod';
import { toExecutorError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { SessionInfo, SessionManager } from '../../sessions/sessionManager.js';
import type { ToolDefinition } from '../toolDefinition.js';
import { BaseResultShape, toErrorResult, toToolResult } from '../toolResult.js';

/**
 * Session tools. A session is asked for explicitly (create_session) rather than handed out by
 * the first call that wants one: its lifetime is then visible to the model (reset, close), like a
 * notebook kernel's, and no call ever keeps state by accident.
 */

export type SessionToolDeps = { sessions: SessionManager; logger: Logger };

export const SessionInfoSchema = z.object({
  sessionId: z.string(),
  ageMs: z.number().int(),
  idleMs: z.number().int(),
  executions: z.number().int(),
  running: z.boolean(),
  memoryMb: z.number(),
  restarts: z.number().int().describe('Times its state was lost (worker replaced) or reset'),
});

const SessionResultSchema = z.object({
  ...BaseResultShape,
  session: SessionInfoSchema.optional(),
  closed: z.boolean().optional(),
});

const SessionIdSchema = z.object({ sessionId: z.string({ error: 'expected the sessionId create_session returned' }).min(1) }).strict();

const describeSession = (s: SessionInfo) =>
  `session ${s.sessionId}: ${s.executions} executions, ${s.restarts} restarts, idle ${Math.round(s.idleMs / 1000)} s`;

/** The session tools' names, for the answer a client gets when sessions are off. */
export const SESSION_TOOL_NAMES = ['create_session', 'reset_session', 'close_session'] as const;

export function createSessionTools(deps: SessionToolDeps): ToolDefinition[] {
  const { sessions } = deps;
  const failure = (error: unknown) => toErrorResult(toExecutorError(error).toInfo(), {});

  const create: ToolDefinition<z.ZodObject<Record<string, never>>, typeof SessionResultSchema> = {
    name: 'create_session',
    title: 'Create a Python session',
    description:
      'Start a session: pass its sessionId to execute_python and variables, imports and files stay from one call to the next (like a notebook). Calls without a sessionId stay isolated. Sessions expire when idle; close them when done.',
    inputSchema: z.object({}).strict(),
    outputSchema: SessionResultSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    emptyResult: {},
    async handler() {
      try {
        const session = await sessions.create();
        return toToolResult(`Created ${describeSession(session)}. Pass sessionId "${session.sessionId}" to execute_python.`, {
          status: 'success' as const,
          session,
        });
      } catch (error) {
        return failure(error);
      }
    },
  };

  const reset: ToolDefinition<typeof SessionIdSchema, typeof SessionResultSchema> = {
    name: 'reset_session',
    title: 'Reset a Python session',
    description: 'Throw away everything a session holds (variables, imports, files) and start it afresh, keeping its sessionId.',
    inputSchema: SessionIdSchema,
    outputSchema: SessionResultSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    emptyResult: {},
    async handler(args) {
      try {
        const session = await sessions.reset(args.sessionId);
        return toToolResult(`Reset ${describeSession(session)}.`, { status: 'success' as const, session });
      } catch (error) {
        return failure(error);
      }
    },
  };

  const close: ToolDefinition<typeof SessionIdSchema, typeof SessionResultSchema> = {
    name: 'close_session',
    title: 'Close a Python session',
    description: 'End a session and free its worker; its state is gone.',
    inputSchema: SessionIdSchema,
    outputSchema: SessionResultSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    emptyResult: {},
    async handler(args) {
      const closed = await sessions.close(args.sessionId);
      return toToolResult(closed ? `Closed session ${args.sessionId}.` : `No session ${args.sessionId} (already closed or expired).`, {
        status: 'success' as const,
        closed,
      });
    },
  };

  return [create, reset, close] as unknown as ToolDefinition[];
}
