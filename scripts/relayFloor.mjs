#!/usr/bin/env node
// The benchmark's floor, never shipped: the product's shape with no Python in it. The same MCP SDK
// over stdio in a front process, which forks an executor process (the boundary no crash of the
// executor crosses) and sends each call to it over IPC; the executor hands it to a Piscina worker
// thread (event-driven, as the Pyodide workers are) that answers at once with a fixed result. What
// a warm call costs here is what the hops alone cost, before any interpreter, sandbox or reset.
import { fork } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

/** The worker thread's task: what a Pyodide worker would return for `print(1)`. */
export default function answer({ code }) {
  return { status: 'success', stdout: code === 'print(1)' ? '1\n' : '', stderr: '', result: null };
}

if (isMainThread && process.argv[2] === '--executor') {
  const { Piscina } = await import('piscina');
  const threads = new Piscina({ filename: SELF, minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 1, atomics: 'disabled' });
  process.on('message', async ({ id, code }) => process.send({ id, outcome: await threads.run({ code }) }));
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
} else if (isMainThread) {
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { z } = await import('zod');
  const executor = fork(SELF, ['--executor'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map();
  let nextId = 0;
  executor.on('message', (message) => {
    if (message.ready) return;
    waiting.get(message.id)?.(message.outcome);
    waiting.delete(message.id);
  });
  const server = new McpServer({ name: 'relay-floor', version: '0.0.0' });
  server.registerTool(
    'execute_python',
    { inputSchema: { code: z.string() }, outputSchema: { status: z.string(), stdout: z.string(), stderr: z.string(), result: z.string().nullable() } },
    async ({ code }) => {
      const id = nextId++;
      const structuredContent = await new Promise((resolve) => {
        waiting.set(id, resolve);
        executor.send({ id, code });
      });
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );
  await server.connect(new StdioServerTransport());
}
