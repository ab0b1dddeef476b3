import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Logger } from '../../logging.js';
import { registerToolDefinitions, type ToolDefinition } from '../toolDefinition.js';
import { createExecutePythonTool, type ExecuteDeps } from './executePython.js';
import { createHealthCheckTool, type HealthDeps } from './healthCheck.js';
import { createInstallPackagesTool, type InstallDeps } from './installPackages.js';
import { createSessionTools, SESSION_TOOL_NAMES, type SessionToolDeps } from './sessions.js';

export type ToolDeps = ExecuteDeps & HealthDeps & InstallDeps & SessionToolDeps & { logger: Logger };

/** Registers the tools and returns them (their failure results are needed outside a request too). */
export function registerTools(server: McpServer, deps: ToolDeps): ToolDefinition[] {
  const tools = [
    createExecutePythonTool(deps),
    createInstallPackagesTool(deps),
    createHealthCheckTool(deps),
    ...(deps.sessions.enabled ? createSessionTools(deps) : []),
  ];
  const off = deps.sessions.enabled
    ? {}
    : Object.fromEntries(
        SESSION_TOOL_NAMES.map((name) => [name, 'sessions are off on this server (MAX_SESSIONS=0, the default over HTTP); set MAX_SESSIONS to a number above 0 to turn them on']),
      );
  registerToolDefinitions(server, tools as unknown as ToolDefinition[], deps.logger, { off });
  return tools as unknown as ToolDefinition[];
}
