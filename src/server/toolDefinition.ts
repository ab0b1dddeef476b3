import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { toExecutorError, type ErrorInfo } from '../errors.js';
import type { Logger } from '../logging.js';
import { toErrorResult } from './toolResult.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A tool as this server defines it: schemas, texts and handler in one object. */
export type ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> = {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
  /** The tool's required result fields when it fails before doing anything (e.g. bad input). */
  emptyResult: Record<string, unknown>;
  handler(args: z.output<I>, extra: ToolExtra): Promise<CallToolResult>;
};

/**
 * Register the tools with the SDK (so tools/list comes from their zod schemas), then take over
 * tools/call: the SDK would answer bad arguments with its own wording and no error code, and this
 * server answers them as INVALID_INPUT results that say exactly what to fix.
 */
export function registerToolDefinitions(
  server: McpServer,
  tools: ToolDefinition[],
  logger: Logger,
  options: { off?: Record<string, string> } = {},
): void {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: tool.annotations,
      },
      async () => {
        throw new Error('unreachable: tools/call is handled by registerToolDefinitions');
      },
    );
  }
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      const name = request.params.name;
      const why = options.off?.[name];
      const available = [...byName.keys()].join(', ');
      throw protocolError(
        ErrorCode.InvalidParams,
        why ? `Tool '${name}' is not offered: ${why}. Available: ${available}` : `Unknown tool '${name}'; available: ${available}`,
      );
    }
    const parsed = tool.inputSchema.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      return toErrorResult(invalidInput(parsed.error, Object.keys(tool.inputSchema.shape)), tool.emptyResult);
    }
    try {
      return await tool.handler(parsed.data, extra);
    } catch (error) {
      const e = toExecutorError(error);
      if (e.code === 'INTERNAL_ERROR') logger.error({ tool: tool.name, error: String(e.cause ?? e) }, 'tool failed');
      return toErrorResult(e.toInfo(), tool.emptyResult);
    }
  });
}

/**
 * A JSON-RPC error with `message` as it is: the SDK sends an error's message as it stands, and an
 * McpError's already starts with "MCP error -32602:", which the client's McpError adds again.
 */
function protocolError(code: ErrorCode, message: string): Error & { code: number } {
  return Object.assign(new Error(message), { code });
}

/**
 * Every problem with the arguments, each with where it is ("inputData[2]: expected a string");
 * `accepted` names the arguments the tool takes, for the message about unknown ones.
 */
export function invalidInput(error: z.ZodError, accepted?: readonly string[]): ErrorInfo {
  const problems = error.issues.map((issue) => {
    const where = issue.path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
      '',
    );
    if (issue.code === 'unrecognized_keys') {
      const names = issue.keys.map((k) => `'${k}'`).join(', ');
      const known = accepted ? ` (accepted: ${accepted.join(', ')})` : '';
      return `${where ? `${where}: ` : ''}unknown argument${issue.keys.length > 1 ? 's' : ''} ${names}${known}`;
    }
    return `${where || 'arguments'}: ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  return {
    code: 'INVALID_INPUT',
    message: `Invalid arguments: ${problems.join('; ')}`,
    details: { problems },
  };
}
