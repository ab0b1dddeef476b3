import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { privateCacheDir } from '../helpers/sandbox.js';
import { SERVER_ENTRY, serverEnv, startServer, type TestServer } from '../helpers/server.js';

/** Spawn the server without a client: for start-up failures, raw stdout and shutdown. */
function spawnServer(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [SERVER_ENTRY], { env: serverEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const rpc = (id: number, method: string, params: unknown) => `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;

async function waitFor(predicate: () => boolean, what: string, ms = 60_000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('configuration', () => {
  it('stops start-up with one message naming every bad variable, its rule and its value', async () => {
    const s = spawnServer({ MAX_CONCURRENT_EXECUTIONS: '0', LOG_LEVEL: 'verbose', EXECUTION_TIMEOUT_MS: 'soon' });
    const [code] = await s.exited;
    expect(code).toBe(1);
    expect(s.stdout()).toBe('');
    expect(s.stderr()).toMatchInlineSnapshot(`
      "mcp-python-executor: Invalid configuration:
        - EXECUTION_TIMEOUT_MS must be an integer from 100 to 86400000 (got 'soon')
        - MAX_CONCURRENT_EXECUTIONS must be an integer from 1 to 64 (got '0')
        - LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got 'verbose')
      "
    `);
  });
});

describe('stdio', () => {
  it('writes nothing but JSON-RPC messages to stdout, whatever the code prints', async () => {
    const s = spawnServer({ LOG_LEVEL: 'debug' });
    s.child.stdin.write(rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }));
    s.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    const codes = [
      "print('x' * 10000)",
      "import sys\nsys.stdout.write('no newline')\nsys.__stdout__.write('raw')",
      'import os\nos.write(1, b"fd one")\nos.write(2, b"fd two")',
      '1/0',
      'import ctypes\nctypes.CDLL(None).abort()',
    ];
    codes.forEach((code, i) => s.child.stdin.write(rpc(10 + i, 'tools/call', { name: 'execute_python', arguments: { code } })));
    const count = () => s.stdout().split('\n').filter(Boolean).length;
    await waitFor(() => count() >= 1 + codes.length, 'all responses');
    s.child.stdin.end();
    await s.exited;
    const lines = s.stdout().split('\n').filter(Boolean);
    for (const line of lines) {
      const message = JSON.parse(line) as { jsonrpc: string };
      expect(message.jsonrpc).toBe('2.0');
    }
    expect(lines).toHaveLength(1 + codes.length);
  });

  it('exits cleanly, with no threads left, when stdin closes', async () => {
    const s = spawnServer();
    s.child.stdin.write(rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }));
    await waitFor(() => s.stdout().includes('"id":1'), 'initialize');
    await waitFor(() => s.stderr().includes('"message":"ready"'), 'workers ready');
    s.child.stdin.end();
    const [code, signal] = await s.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toContain('"why":"stdin closed"');
  });

  it('exits cleanly on SIGTERM', async () => {
    const s = spawnServer();
    await waitFor(() => s.stderr().includes('"message":"ready"'), 'workers ready');
    s.child.kill('SIGTERM');
    const [code] = await s.exited;
    expect(code).toBe(0);
    expect(s.stderr()).toContain('"why":"SIGTERM"');
  });
});

describe('logs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ LOG_LEVEL: 'info' });
  });
  afterAll(() => server?.close());

  it('are JSON lines on stderr with time, level, message and context', async () => {
    const code = "secret_marker = 'SECRET-CODE-123'\nprint(input())";
    await server.run(code, { inputData: ['SECRET-INPUT-456'] });
    await expect.poll(() => server.stderr()).toMatch(/"message":"execution finished"/); // logs are written asynchronously
    const lines = server
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = lines.find((l) => l.message === 'execution started');
    const finished = lines.find((l) => l.message === 'execution finished');
    expect(started).toMatchObject({ level: 'info', tool: 'execute_python', context: { codeBytes: Buffer.byteLength(code), stdinLines: 1 } });
    expect(finished).toMatchObject({ level: 'info', executionId: started?.executionId, context: { outcome: 'SUCCESS' } });
    expect(typeof (finished?.context as { durationMs: unknown }).durationMs).toBe('number');
    expect(new Date(String(finished?.time)).getTime()).toBeGreaterThan(0);
  });

  it('never contain the code or its input at info level', () => {
    expect(server.stderr()).not.toContain('SECRET-CODE-123');
    expect(server.stderr()).not.toContain('SECRET-INPUT-456');
  });

  it('are human-readable lines with LOG_FORMAT=text', async () => {
    const text = await startServer({ LOG_FORMAT: 'text' });
    try {
      await text.run('1');
      const out = text.stderr();
      expect(out).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: execution finished/m);
      expect(out).not.toMatch(/^\{/m);
    } finally {
      await text.close();
    }
  });
});

describe('when no worker can start (a damaged start-up snapshot in the cache)', () => {
  it('answers each call at once with RUNTIME_START_FAILED, reports degraded health, and drops the snapshot so a restart works', async () => {
    const dir = privateCacheDir(inject('cacheDir'));
    const snapshots = path.join(dir, 'snapshots');
    try {
      let server = await startServer({ PACKAGE_CACHE_DIR: dir });
      expect((await server.run('print(1)')).stdout).toBe('1\n'); // the snapshot exists now
      await server.close();
      const [file] = fs.readdirSync(snapshots).filter((f) => f.endsWith('.bin'));
      fs.truncateSync(path.join(snapshots, file as string), 1_000_000);

      server = await startServer({ PACKAGE_CACHE_DIR: dir });
      try {
        for (let i = 0; i < 3; i += 1) {
          const r = await server.run('print(1)');
          expect(r.status).toBe('error');
          expect(r.error?.code).toBe('INTERNAL_ERROR');
          expect(r.error?.details?.reason).toBe('RUNTIME_START_FAILED');
          expect(r.error?.message).toMatch(/could not start: RuntimeError/);
        }
        const health = (await server.call('health_check')).structuredContent as {
          health: string;
          pool: { startFailures: number; lastStartError?: string };
          problems: string[];
        };
        expect(health.health).toBe('degraded');
        expect(health.pool.startFailures).toBeGreaterThanOrEqual(3);
        expect(health.problems.join('\n')).toMatch(/could not start/);
        await waitFor(() => server.stderr().includes('cached start-up snapshots removed'), 'the snapshot to be dropped');
        expect(fs.existsSync(snapshots)).toBe(false);
      } finally {
        await server.close();
      }

      server = await startServer({ PACKAGE_CACHE_DIR: dir });
      try {
        expect((await server.run('print(2)')).stdout).toBe('2\n');
      } finally {
        await server.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
