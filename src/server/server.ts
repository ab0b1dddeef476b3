import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SetLevelRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ErrorInfo } from '../errors.js';
import type { ClientSession } from './liveOutput.js';
import { toErrorResult } from './toolResult.js';
import { registerTools, type ToolDeps } from './tools/index.js';

export const SERVER_NAME = 'mcp-python-executor';

/**
 * An MCP server with the three tools; one per connection (the SDK binds a server to one transport).
 * `toolError` is a tool's failure result, for a call the transport answers itself (one too large to read).
 */
export function createServer(deps: Omit<ToolDeps, 'session'>): {
  server: McpServer;
  close: () => Promise<void>;
  toolError: (tool: string, error: ErrorInfo) => CallToolResult | undefined;
} {
  const server = new McpServer(
    { name: SERVER_NAME, title: 'Python executor (Pyodide)', version: deps.runtime.version },
    {
      capabilities: { tools: {}, logging: {} },
      instructions:
        'Runs Python 3 in a sandbox (Pyodide/WebAssembly). Use execute_python for code; install_packages to add packages first; health_check for status.',
    },
  );
  // The level a client sets decides whether execute_python streams output as log messages.
  const session: ClientSession = { logLevel: undefined };
  server.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    session.logLevel = request.params.level;
    return {};
  });
  // Sessions belong to the connection that made them (over HTTP, the MCP session, which every
  // request reaches only with the token): another client cannot run code in them, nor see their ids.
  const sessions = deps.sessions.forOwner(randomUUID());
  const tools = registerTools(server, { ...deps, sessions, session });
  const toolError = (name: string, error: ErrorInfo) => {
    const tool = tools.find((t) => t.name === name);
    return tool && toErrorResult(error, tool.emptyResult);
  };
  const close = async () => {
    await server.close();
    await sessions.closeAll(); // no one else can reach them now
  };
  return { server, close, toolError };
}
