#!/usr/bin/env node
/**
 * Starts a server command the way an MCP client does (stdio, the SDK's own client) and checks a
 * real execute_python answer. CI runs it against the packed tarball through npx, so the package
 * users get is what is tested, not only the checkout:
 *
 *   node scripts/check-packed.mjs -- npx -y --package ./mcp-python-executor-0.1.0.tgz mcp-python-executor
 *
 * Exits 0 when the answer is right and stdout carried nothing but JSON-RPC, 1 otherwise (with the
 * server's stderr).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const dash = process.argv.indexOf('--');
const [command, ...args] = dash === -1 ? [] : process.argv.slice(dash + 1);
if (!command) {
  process.stderr.write('usage: node scripts/check-packed.mjs -- <command> [args...]\n');
  process.exit(2);
}

const transport = new StdioClientTransport({ command, args, env: { ...getDefaultEnvironment(), ...process.env }, stderr: 'pipe' });
let stderr = '';
transport.stderr?.on('data', (chunk) => (stderr += chunk.toString('utf8')));
const client = new Client({ name: 'check-packed', version: '1.0.0' });
// A line on stdout that is not JSON-RPC (a banner, a log) shows here: the channel must stay clean.
const channelErrors = [];
client.onerror = (error) => channelErrors.push(error.message);

try {
  // npx may first download the dependencies: minutes on a cold npm cache.
  await client.connect(transport, { timeout: 600_000 });
  const tools = (await client.listTools()).tools.map((t) => t.name);
  if (!tools.includes('execute_python')) throw new Error(`no execute_python tool (tools: ${tools.join(', ')})`);
  const result = await client.callTool({ name: 'execute_python', arguments: { code: 'import sys\nprint(6 * 7)\nsys.version_info[:2]' } }, undefined, { timeout: 300_000 });
  const { status, stdout, result: value } = result.structuredContent ?? {};
  if (result.isError || status !== 'success' || stdout !== '42\n' || value !== '(3, 14)') {
    throw new Error(`unexpected answer: ${JSON.stringify(result)}`);
  }
  if (channelErrors.length > 0) throw new Error(`stdout carried more than JSON-RPC: ${channelErrors.join('; ')}`);
  process.stdout.write(`ok: ${[command, ...args].join(' ')} answered execute_python (stdout 42, Python ${value})\n`);
  await client.close();
  process.exit(0);
} catch (error) {
  process.stderr.write(`check-packed failed: ${error instanceof Error ? error.message : String(error)}\n--- server stderr ---\n${stderr}\n`);
  await client.close().catch(() => {});
  process.exit(1);
}
