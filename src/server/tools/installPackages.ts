import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MAX_REQUIREMENTS } from '../../packages/requirements.js';
import { toExecutorError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { Metrics } from '../../metrics.js';
import type { PackagesApi } from '../executorApi.js';
import type { ToolDefinition } from '../toolDefinition.js';
import { BaseResultShape, toErrorResult, toToolResult } from '../toolResult.js';

export type InstallDeps = { packageManager: PackagesApi; metrics: Metrics; logger: Logger };

export const InstallPackagesInputSchema = z
  .object({
    packages: z
      .array(z.string({ error: 'expected a string (a package name, optionally with versions)' }))
      .describe(
        `Up to ${MAX_REQUIREMENTS} requirements: names with optional extras and versions, e.g. "attrs", "attrs==23.2.0", "pkg>=1,<2". Pyodide's own builds (numpy, pandas, matplotlib, scikit-learn, …) and pure-Python wheels from the package index install; other native packages do not.`,
      ),
  })
  .strict();

const Package = z.object({ name: z.string(), version: z.string() });

export const InstallPackagesOutputSchema = z.object({
  ...BaseResultShape,
  installed: z.array(Package).describe('Packages this call added, dependencies included'),
  alreadyInstalled: z.array(Package).describe('Requested packages that were there already'),
  fromCache: z.boolean().optional().describe('True when the installed packages came from wheels in the cache (sha256-checked), not the index'),
  durationMs: z.number(),
});
export type InstallPackagesOutput = z.infer<typeof InstallPackagesOutputSchema>;

export function createInstallPackagesTool(deps: InstallDeps) {
  const empty = { installed: [], alreadyInstalled: [], durationMs: 0 };
  const tool: ToolDefinition<typeof InstallPackagesInputSchema, typeof InstallPackagesOutputSchema> = {
    name: 'install_packages',
    title: 'Install Python packages',
    description:
      'Install Python packages (with micropip) so that every later execute_python call can import them. Dependencies are installed too; installed packages stay for the life of the server.',
    inputSchema: InstallPackagesInputSchema,
    outputSchema: InstallPackagesOutputSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    emptyResult: empty,
    async handler(args) {
      const log = deps.logger.child({ tool: 'install_packages', installId: randomUUID() });
      log.info({ packages: args.packages }, 'install started');
      const started = performance.now();
      try {
        const outcome = await deps.packageManager.install(args.packages);
        deps.metrics.recordPackagesInstalled(outcome.installed.length);
        log.info({ installed: outcome.installed, alreadyInstalled: outcome.alreadyInstalled, durationMs: Math.round(outcome.durationMs) }, 'install finished');
        const structured: InstallPackagesOutput = {
          status: 'success',
          installed: outcome.installed,
          alreadyInstalled: outcome.alreadyInstalled,
          ...(outcome.fromCache && outcome.installed.length > 0 ? { fromCache: true } : {}),
          durationMs: Math.round(outcome.durationMs),
        };
        const list = (ps: { name: string; version: string }[]) => ps.map((p) => `${p.name}==${p.version}`).join(', ');
        const text = [
          outcome.installed.length > 0
            ? `Installed${outcome.fromCache ? ' from cache' : ''}: ${list(outcome.installed)}`
            : 'Nothing new to install.',
          ...(outcome.alreadyInstalled.length > 0 ? [`Already installed: ${list(outcome.alreadyInstalled)}`] : []),
          'Import them in execute_python.',
        ].join('\n');
        return toToolResult(text, structured);
      } catch (error) {
        const e = toExecutorError(error);
        const durationMs = Math.round(performance.now() - started);
        log.info({ outcome: e.code, reason: e.details?.reason, message: e.message, durationMs }, 'install failed');
        return toErrorResult(e.toInfo(), { ...empty, durationMs });
      }
    },
  };
  return tool;
}
