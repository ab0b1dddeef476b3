import { z } from 'zod';
import type { ToolDefinition } from '../toolDefinition.js';
import { BaseResultShape, toErrorResult } from '../toolResult.js';

export const InstallPackagesInputSchema = z
  .object({
    packages: z
      .array(z.string())
      .describe('Requirements to install: names with optional versions, e.g. "attrs", "attrs==23.2.0", "pkg>=1,<2"'),
  })
  .strict();

export const InstallPackagesOutputSchema = z.object({
  ...BaseResultShape,
  installed: z.array(z.object({ name: z.string(), version: z.string() })),
  alreadyInstalled: z.array(z.object({ name: z.string(), version: z.string() })),
  durationMs: z.number(),
});

export function createInstallPackagesTool() {
  const tool: ToolDefinition<typeof InstallPackagesInputSchema, typeof InstallPackagesOutputSchema> = {
    name: 'install_packages',
    title: 'Install Python packages',
    description: 'Install Python packages (with micropip) for every later execute_python call.',
    inputSchema: InstallPackagesInputSchema,
    outputSchema: InstallPackagesOutputSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    emptyResult: { installed: [], alreadyInstalled: [], durationMs: 0 },
    async handler() {
      return toErrorResult(
        { code: 'PACKAGE_INSTALLATION_ERROR', message: 'Package installation is not available in this build' },
        { installed: [], alreadyInstalled: [], durationMs: 0 },
      );
    },
  };
  return tool;
}
