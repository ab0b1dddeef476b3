import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const SERVER_ENTRY = fileURLToPath(new URL('../../build/index.js', import.meta.url));

export type TestServer = {
  client: Client;
  /** Everything the server wrote to stderr so far (its logs). */
  stderr(): string;
  /** Errors the client saw on the connection (a non-JSON line on stdout would show here). */
  connectionErrors: Error[];
  /** Call a tool and return the result as the client received it. */
  call(name: string, args?: Record<string, unknown>, options?: { signal?: AbortSignal; timeout?: number }): Promise<CallToolResult>;
  /** Shorthand for execute_python; returns structuredContent with the text. */
  run(code: string, extra?: Record<string, unknown>): Promise<ExecResult>;
  pid: number | null;
  close(): Promise<void>;
};

export type ExecResult = {
  status: 'success' | 'error';
  stdout: string;
  stderr: string;
  result: string | null;
  error?: { code: string; message: string; details?: Record<string, unknown> };
  durationMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  text: string;
  isError: boolean;
};

/** The environment a server gets in tests: only what it needs, plus the test's settings. */
export function serverEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PACKAGE_CACHE_DIR: inject('cacheDir'),
    MAX_CONCURRENT_EXECUTIONS: '2',
    ...env,
  };
}

/** Start the built server as a child process and connect the SDK's real client over stdio. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY],
    env: serverEnv(env),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'mcp-python-executor-tests', version: '1.0.0' });
  const connectionErrors: Error[] = [];
  client.onerror = (error) => connectionErrors.push(error);
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}, options: { signal?: AbortSignal; timeout?: number } = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, {
      timeout: options.timeout ?? 120_000,
      ...(options.signal ? { signal: options.signal } : {}),
    })) as CallToolResult;
  return {
    client,
    stderr: () => stderr,
    connectionErrors,
    call,
    async run(code, extra = {}) {
      const result = await call('execute_python', { code, ...extra });
      const first = result.content[0];
      return {
        ...(result.structuredContent as Omit<ExecResult, 'text' | 'isError'>),
        text: first?.type === 'text' ? first.text : '',
        isError: result.isError === true,
      };
    },
    pid: transport.pid,
    close: () => client.close(),
  };
}
