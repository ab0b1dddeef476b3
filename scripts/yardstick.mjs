#!/usr/bin/env node
// The benchmark's yardstick, never shipped: the shape of the other Pyodide MCP servers. One
// Pyodide on the main thread, loaded at start, the same MCP SDK over stdio, an execute_python tool
// that captures stdout/stderr and returns the last expression's repr. No sandbox, no limits, no
// isolation between calls: what the product is measured against.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadPyodide } from 'pyodide';
import { z } from 'zod';

const py = await loadPyodide({ stdout: () => {}, stderr: () => {} });
const server = new McpServer({ name: 'yardstick', version: '0.0.0' });
server.registerTool(
  'execute_python',
  { inputSchema: { code: z.string() }, outputSchema: { status: z.string(), stdout: z.string(), stderr: z.string(), result: z.string().nullable() } },
  async ({ code }) => {
    let stdout = '';
    let stderr = '';
    const decoder = new TextDecoder();
    py.setStdout({ write: (b) => ((stdout += decoder.decode(b)), b.length) });
    py.setStderr({ write: (b) => ((stderr += decoder.decode(b)), b.length) });
    let result = null;
    let status = 'success';
    try {
      const value = await py.runPythonAsync(code);
      result = value === undefined ? null : String(value?.toString?.() ?? value);
      value?.destroy?.();
    } catch (error) {
      status = 'error';
      stderr += String(error?.message ?? error);
    }
    const structuredContent = { status, stdout, stderr, result };
    return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent, isError: status !== 'success' };
  },
);
await server.connect(new StdioServerTransport());
