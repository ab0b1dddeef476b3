import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { toExecutorError, type ErrorInfo } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { Metrics } from '../../metrics.js';
import type { PoolResult } from '../../pool/executorPool.js';
import type { PoolApi } from '../executorApi.js';
import { MOUNT_POINT } from '../../pool/messages.js';
import type { SessionManager } from '../../sessions/sessionManager.js';
import { startLiveOutput, type ClientSession } from '../liveOutput.js';
import { createInputFilesSchema, describeFiles, OutputFileSchema, toFileContent, toInputFiles } from './executionFiles.js';
import type { ToolDefinition } from '../toolDefinition.js';
import { BaseResultShape, errorHeadline, toToolResult } from '../toolResult.js';
import { fitOutput, fitStream, keptText, type Captured } from '../outputBudget.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export type ExecuteDeps = {
  config: Config;
  pool: PoolApi;
  sessions: SessionManager;
  metrics: Metrics;
  logger: Logger;
  session: ClientSession;
};

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

export function createExecutePythonInputSchema(config: Config) {
  return z
    .object({
      code: z
        .string({ error: 'expected a string of Python code' })
        .refine((code) => code.trim().length > 0, { error: 'must not be empty' })
        .refine((code) => byteLength(code) <= config.maxCodeBytes, {
          error: (issue) =>
            `is ${byteLength(String(issue.input))} bytes; the limit is ${config.maxCodeBytes} (MAX_CODE_BYTES)`,
        })
        .describe('Python source to run. The value of a final expression is returned, like a REPL; top-level await works.'),
      inputData: z
        .array(z.string({ error: 'expected a string (one line of input)' }))
        .optional()
        .refine((lines) => !lines || lines.reduce((n, l) => n + byteLength(l) + 1, 0) <= config.maxInputBytes, {
          error: `is larger than ${config.maxInputBytes} bytes in all (MAX_INPUT_BYTES)`,
        })
        .describe('Lines fed to standard input: input() returns them one by one, sys.stdin.read() the rest; past the last line, EOFError.'),
      files: createInputFilesSchema(config),
      sessionId: z
        .string({ error: 'expected the sessionId create_session returned' })
        .min(1)
        .optional()
        .describe('Run in this session (from create_session): its variables, imports and files stay between calls'),
      timeoutMs: z
        .number({ error: 'expected a number of milliseconds' })
        .int({ error: 'must be a whole number of milliseconds' })
        .positive({ error: 'must be greater than 0' })
        .optional()
        .describe(`Time limit for this call in ms; at most the server's limit (${config.executionTimeoutMs}).`),
      fullOutput: z
        .boolean({ error: 'expected true or false' })
        .optional()
        .describe(
          `When output is longer than the answer holds (${config.outputBudgetBytes} bytes), also return all that was kept (up to ${config.maxOutputBytes} bytes per stream) as text resources.`,
        ),
    })
    .strict();
}

const StreamInfo = {
  stdoutBytes: z.number().int().describe('Bytes written to stdout, including any cut off'),
  stderrBytes: z.number().int().describe('Bytes written to stderr, including any cut off'),
  stdoutTruncated: z.boolean().describe('Whether stdout here is cut (its head and tail around a mark counting the bytes left out)'),
  stderrTruncated: z.boolean().describe('Whether stderr here is cut'),
};

export const ExecutePythonOutputSchema = z.object({
  ...BaseResultShape,
  stdout: z.string().describe('What was printed to stdout: whole, or its head and tail when the answer had to cut it (OUTPUT_BUDGET_BYTES)'),
  stderr: z.string().describe('What was printed to stderr, cut the same way'),
  // A union, not .nullable(): zod writes that as type: ["string", "null"], which clients mapping
  // schemas onto a single-type dialect (Gemini's OpenAPI subset) reject; anyOf ports.
  result: z
    .union([z.string(), z.null().describe('no final expression, or its value was None')])
    .describe("repr() of the last expression's value (cut the same way), or null"),
  durationMs: z.number().describe('How long the code ran'),
  ...StreamInfo,
  memoryMb: z.number().optional().describe("The worker's WebAssembly memory when the run ended"),
  files: z.array(OutputFileSchema).describe('Files the code left in ./output/ (and figures left open), returned as content'),
  executionId: z.string(),
  sessionId: z.string().optional(),
  sessionState: z
    .enum(['kept', 'lost'])
    .optional()
    .describe("In a session: whether its state survived this call (lost when its worker had to be replaced)"),
});
export type ExecutePythonOutput = z.infer<typeof ExecutePythonOutputSchema>;

/** What the model reads: it names the opt-ins that are on, so it does not try what cannot work. */
function describeTool(config: Config, sessions: boolean): string {
  const reach = [
    config.allowNetwork
      ? `Network: HTTP(S) with pyodide.http.pyfetch${config.networkAllowedHosts.length > 0 ? ` to ${config.networkAllowedHosts.join(', ')} only` : ''}.`
      : 'No network.',
    config.mountHostDir ? `Host files: ${MOUNT_POINT} (${config.mountMode === 'rw' ? 'read-write' : 'read-only'}); nothing else of the host.` : 'No host files.',
    'No subprocesses.',
  ];
  return [
    'Run Python 3 code (CPython compiled to WebAssembly, Pyodide) in an isolated sandbox and return its output.',
    '- The value of the last expression is returned like a REPL (as its repr); print() output comes back as stdout.',
    '- inputData lines are fed to stdin (input(), sys.stdin). Top-level await works.',
    sessions
      ? '- Each call starts with a fresh namespace, unless it passes a sessionId from create_session: then variables, imports and files stay between calls.'
      : '- Each call starts with a fresh namespace: define everything you need in the same call.',
    '- files: [{path, content, encoding}] are placed in the working directory first (e.g. data.csv).',
    '- Files written under ./output/ come back with the result (images as images); matplotlib figures left open are returned as PNG.',
    `- Standard library available; other packages only after install_packages. ${reach.join(' ')}`,
    '- Limits: time (timeoutMs), memory, and output size; a failure comes back with an error code and a traceback.',
    `- Long output comes back as its first and last lines with a count of the bytes cut (about ${Math.round(config.outputBudgetBytes / 1024)} KiB per answer); fullOutput: true also returns all of it that was kept.`,
  ].join('\n');
}

export function createExecutePythonTool(deps: ExecuteDeps) {
  const { config, pool, metrics, logger } = deps;
  const empty = (executionId = '') => ({
    stdout: '',
    stderr: '',
    result: null,
    durationMs: 0,
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutTruncated: false,
    stderrTruncated: false,
    files: [],
    executionId,
  });
  const inputSchema = createExecutePythonInputSchema(config);

  const tool: ToolDefinition<typeof inputSchema, typeof ExecutePythonOutputSchema> = {
    name: 'execute_python',
    title: 'Run Python',
    description: describeTool(config, deps.sessions.enabled),
    inputSchema,
    outputSchema: ExecutePythonOutputSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: config.allowNetwork },
    emptyResult: empty(),
    async handler(args, extra) {
      const executionId = randomUUID();
      const log = logger.child({ tool: 'execute_python', executionId });
      const timeoutMs = Math.min(args.timeoutMs ?? config.executionTimeoutMs, config.executionTimeoutMs);
      log.info({ codeBytes: byteLength(args.code), stdinLines: args.inputData?.length ?? 0, timeoutMs }, 'execution started');
      log.debug({ code: args.code }, 'execution code');
      let outcome: PoolResult;
      let sessionState: 'kept' | 'lost' | undefined;
      const live = startLiveOutput(extra, deps.session);
      try {
        const request = {
          code: args.code,
          stdin: args.inputData ?? [],
          timeoutMs,
          signal: extra.signal,
          executionId,
          onOutput: live.onOutput,
          files: toInputFiles(args.files),
        };
        if (args.sessionId) {
          const result = await deps.sessions.run(args.sessionId, request);
          sessionState = result.sessionState;
          outcome = result;
        } else {
          outcome = await pool.run(request);
        }
      } catch (error) {
        const e = toExecutorError(error);
        if (e.details?.reason === 'QUEUE_FULL') metrics.recordQueueRejection();
        metrics.record({ durationMs: 0, errorCode: e.code });
        log.info({ outcome: e.code, reason: e.details?.reason }, 'execution refused');
        if (e.code === 'INTERNAL_ERROR' && e.details?.reason !== 'QUEUE_FULL') log.error({ error: String(e.cause ?? e) }, 'execution failed');
        return failure(e.toInfo(), empty(executionId));
      } finally {
        await live.stop();
      }
      if ('cancelled' in outcome && outcome.cancelled) {
        metrics.recordCancelled();
        log.info({ durationMs: Math.round(outcome.elapsedMs), outcome: 'CANCELLED' }, 'execution cancelled');
        // The SDK sends nothing for a cancelled request; this result is never seen.
        return failure({ code: 'INTERNAL_ERROR', message: 'Cancelled by the client' }, empty(executionId));
      }
      const run = outcome as Exclude<PoolResult, { cancelled: true }>;
      if (run.error) run.error = fitError(run.error, config.outputBudgetBytes);
      if (run.error?.code === 'EXECUTION_TIMEOUT' && args.timeoutMs !== undefined && args.timeoutMs < config.executionTimeoutMs) {
        // The limit that stopped it was the call's own: raising EXECUTION_TIMEOUT_MS would not help.
        const next = `make the work smaller or faster, or call again with a larger timeoutMs (this server allows up to ${config.executionTimeoutMs} ms)`;
        run.error = { ...run.error, details: { ...run.error.details, next } };
      }
      metrics.record({ durationMs: run.elapsedMs, memoryMb: run.memory.wasmMb || undefined, errorCode: run.error?.code });
      log.info(
        {
          durationMs: Math.round(run.elapsedMs),
          queuedMs: Math.round(run.queuedMs),
          outcome: run.error?.code ?? 'SUCCESS',
          stdoutBytes: run.stdout.bytes,
          stderrBytes: run.stderr.bytes,
          memoryMb: run.memory.wasmMb,
          workerReplaced: run.workerRestarted || undefined,
        },
        'execution finished',
      );
      const returned = toFileContent(run.files, executionId);
      const shown = fitOutput(run, config.outputBudgetBytes);
      const structured: ExecutePythonOutput = {
        status: run.ok ? 'success' : 'error',
        ...(run.error ? { error: run.error } : {}),
        stdout: shown.stdout.text,
        stderr: shown.stderr.text,
        result: shown.result?.text ?? null,
        durationMs: Math.round(run.elapsedMs * 100) / 100,
        stdoutBytes: run.stdout.bytes,
        stderrBytes: run.stderr.bytes,
        stdoutTruncated: shown.stdout.cutBytes > 0,
        stderrTruncated: shown.stderr.cutBytes > 0,
        memoryMb: run.memory.wasmMb,
        files: returned.info,
        executionId,
        ...(args.sessionId ? { sessionId: args.sessionId, sessionState } : {}),
      };
      const full = fullOutputContent(run, shown, executionId);
      const note = cutNote(full.uris, args.fullOutput === true);
      const result = toToolResult(formatText(structured, note), structured);
      if (args.fullOutput) result.content.push(...full.content);
      result.content.push(...returned.content);
      return result;
    },
  };
  return tool;

  function failure(error: ErrorInfo, base: ExecutePythonOutput | ReturnType<typeof empty>) {
    const structured = { ...base, status: 'error' as const, error };
    return toToolResult(formatText(structured as ExecutePythonOutput), structured);
  }

  /** What the model is told once when the answer cut something, and how to get the rest. */
  function cutNote(uris: string[], fullOutput: boolean): string | undefined {
    if (uris.length === 0) return undefined;
    if (fullOutput) return `[output cut to ${config.outputBudgetBytes} bytes here; all that was kept is attached: ${uris.join(', ')}]`;
    return `[output cut to ${config.outputBudgetBytes} bytes (OUTPUT_BUDGET_BYTES); call again with fullOutput: true to get all that was kept (up to ${config.maxOutputBytes} bytes per stream, MAX_OUTPUT_BYTES) as resources]`;
  }
}

/**
 * A Python error within the answer's size too: its traceback gets half the budget, its message
 * and other texts an eighth each (raise ValueError('x' * 10**6) would otherwise answer megabytes).
 */
function fitError(error: ErrorInfo, budget: number): ErrorInfo {
  const fit = (name: string, text: string, room: number) =>
    fitStream(name, { text, bytes: Buffer.byteLength(text), truncated: false }, room).text;
  const details = error.details && Object.fromEntries(
    Object.entries(error.details).map(([key, value]) =>
      typeof value === 'string' ? [key, fit(key, value, Math.floor(key === 'traceback' ? budget / 2 : budget / 8))] : [key, value],
    ),
  );
  return { ...error, message: fit('message', error.message, Math.floor(budget / 8)), ...(details ? { details } : {}) };
}

/** The streams the answer cut, whole as the worker kept them, as text resources. */
function fullOutputContent(
  run: { stdout: Captured; stderr: Captured; result: string | null },
  shown: ReturnType<typeof fitOutput>,
  executionId: string,
): { content: CallToolResult['content']; uris: string[] } {
  const content: CallToolResult['content'] = [];
  const uris: string[] = [];
  const add = (name: string, text: string) => {
    const uri = `python-output:///${executionId}/${name}.txt`;
    uris.push(uri);
    content.push({ type: 'resource', resource: { uri, mimeType: 'text/plain', text } });
  };
  if (shown.stdout.cutBytes > 0) add('stdout', keptText('stdout', run.stdout));
  if (shown.stderr.cutBytes > 0) add('stderr', keptText('stderr', run.stderr));
  if (shown.result && shown.result.cutBytes > 0 && run.result !== null) add('result', run.result);
  return { content, uris };
}

/** The model's view: the failure first (with what to do), then output sections, then the value. */
export function formatText(out: ExecutePythonOutput, cutNote?: string): string {
  const parts: string[] = [];
  if (out.error) {
    parts.push(errorHeadline(out.error));
    if (out.sessionState === 'lost') parts.push(`The session's state was lost: its worker had to be replaced. Run the set-up code again.`);
    if (out.sessionState === 'kept' && /EXECUTION_TIMEOUT|MEMORY_LIMIT_EXCEEDED/.test(out.error.code)) {
      parts.push(`The session's state was kept.`);
    }
    const tb = out.error.details?.traceback;
    if (typeof tb === 'string' && tb.trim()) parts.push(tb.trimEnd());
  }
  const section = (name: string, text: string) => {
    if (text) parts.push(`[${name}]\n${text.replace(/\n$/, '')}`);
  };
  section('stdout', out.stdout);
  section('stderr', out.stderr);
  if (out.result !== null) parts.push(`[result]\n${out.result}`);
  if (cutNote) parts.push(cutNote);
  const files = describeFiles(out.files ?? []);
  if (files) parts.push(files);
  if (parts.length === 0) parts.push(out.status === 'success' ? '(no output)' : '');
  return parts.join('\n\n');
}
