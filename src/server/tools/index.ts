import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Logger } from '../../logging.js';
import { registerToolDefinitions, type ToolDefinition } from '../toolDefinition.js';
import { createExecutePythonTool, type ExecuteDeps } from './executePython.js';
import { createHealthCheckTool, type HealthDeps } from './healthCheck.js';
import { createInstallPackagesTool, type InstallDeps } from './installPackages.js';
import { createSessionTools, type SessionToolDeps } from './sessions.js';

export type ToolDeps = ExecuteDeps & HealthDeps & InstallDeps & SessionToolDeps & { logger: Logger };

/** Registers the tools and returns them (their failure results are needed outside a request too). */
export function registerTools(server: McpServer, deps: ToolDeps): ToolDefinition[] {
  const tools = [
    createExecutePythonTool(deps),
    createInstallPackagesTool(deps),
    createHealthCheckTool(deps),
    ...(deps.sessions.enabled ? createSessionTools(deps) : []),
  ];
  registerToolDefinitions(server, tools as unknown as ToolDefinition[], deps.logger);
  return tools as unknown as ToolDefinition[];
}
