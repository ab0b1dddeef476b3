import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const SERVER_ENTRY = fileURLToPath(new URL('../../build/index.js', import.meta.url));
/** The command users run (package.json bin): checks the Node version and answers --help/--version first. */
export const BIN_ENTRY = fileURLToPath(new URL('../../build/bin.js', import.meta.url));

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
  /** Text resources of the answer (fullOutput). */
  resources?: { uri: string; text: string }[];
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

export type HttpTestServer = {
  url: string;
  port: number;
  pid: number;
  stderr(): string;
  /** A connected SDK client over streamable HTTP (each call is one stateless POST). */
  connect(headers?: Record<string, string>): Promise<Client>;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
  close(): Promise<void>;
};

/** Start the built server with --http on a free port and wait until it listens. */
export async function startHttpServer(env: Record<string, string> = {}, args: string[] = []): Promise<HttpTestServer> {
  const { spawn } = await import('node:child_process');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const child = spawn(process.execPath, [SERVER_ENTRY, '--http', ...args], {
    env: serverEnv({ HTTP_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen:\n${stderr}`)), 60_000);
    const check = () => {
      const line = stderr.split('\n').find((l) => l.includes('"message":"listening"'));
      if (line) {
        clearTimeout(timer);
        const { context } = JSON.parse(line) as { context: { url: string; port: number } };
        resolve(context);
      }
    };
    child.stderr.on('data', check);
    void exited.then(() => reject(new Error(`server exited:\n${stderr}`)));
  });
  const clients: Client[] = [];
  return {
    ...listening,
    pid: child.pid ?? 0,
    stderr: () => stderr,
    async connect(headers = {}) {
      const client = new Client({ name: 'mcp-python-executor-tests', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(listening.url), { requestInit: { headers } }));
      clients.push(client);
      return client;
    },
    kill: (signal = 'SIGTERM') => child.kill(signal),
    exited,
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
