import { z } from 'zod';
import { describeConfig, type Config } from '../../config.js';
import { ERROR_CODES } from '../../errors.js';
import { FreeFormSchema } from '../errorSchema.js';
import type { Metrics } from '../../metrics.js';
import type { PackageManager } from '../../packages/packageManager.js';
import type { SessionManager } from '../../sessions/sessionManager.js';
import { SessionInfoSchema } from './sessions.js';
import type { PoolApi } from '../executorApi.js';
import type { RuntimeInfo } from '../../versions.js';
import type { ToolDefinition } from '../toolDefinition.js';
import { BaseResultShape, toToolResult } from '../toolResult.js';


export type HealthDeps = {
  config: Config;
  pool: PoolApi;
  metrics: Metrics;
  runtime: RuntimeInfo;
  packageManager: Pick<PackageManager, 'installed' | 'problems'>;
  sessions: Pick<SessionManager, 'list' | 'count'>;
};

const count = z.number().int();

export const HealthCheckOutputSchema = z.object({
  ...BaseResultShape,
  health: z.enum(['ok', 'degraded']).describe('degraded when start-up package installs failed or workers cannot start'),
  version: z.string(),
  pythonVersion: z.string(),
  pyodideVersion: z.string(),
  nodeVersion: z.string(),
  uptimeMs: count,
  config: FreeFormSchema(),
  metrics: z.object({
    totalExecutions: count,
    successfulExecutions: count,
    totalErrors: count,
    successRate: z.number(),
    averageExecutionTimeMs: z.number(),
    averageMemoryUsageMb: z.number(),
    peakMemoryUsageMb: z.number(),
    errorsByCode: z.partialRecord(z.enum(ERROR_CODES), count),
    timeouts: count,
    memoryLimitErrors: count,
    cancelled: count,
    rejectedByQueue: count,
    packagesInstalled: count,
  }),
  pool: z.object({
    workers: count,
    maxWorkers: count,
    busy: count,
    queued: count,
    maxQueue: count,
    workerRestarts: count,
    restartsByReason: z.record(z.string(), count),
    startFailures: count.describe('workers in a row that could not start (0 once one does)'),
    lastStartError: z.string().optional(),
    executorCrashes: count.describe('times the process that runs Python died (a new one starts at once)'),
    executorCrashesByCause: z.record(z.string(), count).describe('those deaths by signal or exit code'),
  }),
  packages: z.array(z.object({ name: z.string(), version: z.string() })),
  sessions: z
    .array(SessionInfoSchema)
    .optional()
    .describe("this client's sessions; left out over HTTP, where a health report shows counts only"),
  sessionCounts: z.object({ open: count.describe('sessions open on the server'), yours: count, max: count }),
  problems: z.array(z.string()),
});

export function createHealthCheckTool(deps: HealthDeps) {
  const inputSchema = z.object({}).strict();
  const tool: ToolDefinition<typeof inputSchema, typeof HealthCheckOutputSchema> = {
    name: 'health_check',
    title: 'Server health',
    description:
      'Report the server status: versions (server, Python, Pyodide, Node), settings, execution metrics (totals, errors by code, success rate, average time and memory, timeouts), worker pool and queue, installed packages.',
    inputSchema,
    outputSchema: HealthCheckOutputSchema,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    emptyResult: {},
    async handler() {
      const { uptimeMs, ...metrics } = deps.metrics.snapshot();
      const packages = { installed: deps.packageManager.installed(), problems: deps.packageManager.problems() };
      const pool = deps.pool.stats();
      const problems = [...packages.problems];
      if (pool.startFailures > 0) problems.push(`${pool.startFailures} worker(s) in a row could not start: ${pool.lastStartError ?? 'unknown reason'}`);
      const structured = {
        status: 'success' as const,
        health: problems.length > 0 ? ('degraded' as const) : ('ok' as const),
        ...deps.runtime,
        uptimeMs,
        config: describeConfig(deps.config),
        metrics,
        pool,
        packages: packages.installed,
        ...(deps.config.transport === 'http' ? {} : { sessions: deps.sessions.list() }),
        sessionCounts: { open: deps.sessions.count(), yours: deps.sessions.list().length, max: deps.config.maxSessions },
        problems,
      };
      const m = structured.metrics;
      const p = structured.pool;
      const text = [
        `mcp-python-executor ${structured.version}: ${structured.health}, up ${Math.round(uptimeMs / 1000)} s`,
        `Python ${structured.pythonVersion} (Pyodide ${structured.pyodideVersion}) on Node ${structured.nodeVersion}`,
        `executions: ${m.totalExecutions} (${m.totalErrors} errors, success rate ${m.successRate}), average ${m.averageExecutionTimeMs} ms, ${m.averageMemoryUsageMb} MB`,
        `workers: ${p.workers}/${p.maxWorkers}, busy ${p.busy}, queued ${p.queued}/${p.maxQueue}, restarts ${p.workerRestarts}`,
        `packages: ${packages.installed.map((x) => `${x.name}==${x.version}`).join(', ') || 'none installed'}`,
        `sessions: ${structured.sessionCounts.open}/${structured.sessionCounts.max} (${structured.sessionCounts.yours} yours)`,
        ...problems.map((problem) => `problem: ${problem}`),
      ].join('\n');
      return toToolResult(text, structured);
    },
  };
  return tool;
}
