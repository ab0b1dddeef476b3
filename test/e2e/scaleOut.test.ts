import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpTestServer } from '../helpers/server.js';
import { describeUnless } from '../helpers/skips.js';

/**
 * Two stateless replicas behind a real nginx (from Debian's packages; .ci/run installs it), on
 * loopback only, with a config this test writes and an nginx it starts and stops itself.
 */

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The pid of the process that really serves (the launcher re-executes Node under its flags). */
function servingPid(replica: HttpTestServer): number {
  const line = replica.stderr().split('\n').find((l) => l.includes('"message":"starting"'));
  return (JSON.parse(line ?? '{}') as { pid: number }).pid;
}

async function health(replica: HttpTestServer) {
  const r = await fetch(`http://127.0.0.1:${replica.port}/healthz`);
  return (await r.json()) as { busy: number; queued: number };
}

describeUnless(NGINX ? undefined : 'needs nginx (.ci/run installs Debian\'s nginx-light)', 'scale-out behind nginx', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-nginx-'));
  let replicas: HttpTestServer[] = [];
  let nginx: ChildProcess;
  let url = '';
  let client: Client;

  beforeAll(async () => {
    const env = { MAX_CONCURRENT_EXECUTIONS: '2', MAX_QUEUE_SIZE: '1000', EXECUTION_TIMEOUT_MS: '60000' };
    replicas = await Promise.all([startHttpServer(env), startHttpServer(env)]);
    const port = await freePort();
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, sub));
    fs.writeFileSync(
      path.join(dir, 'nginx.conf'),
      `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 2048; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream executors {
${replicas.map((r) => `    server 127.0.0.1:${r.port} max_fails=1 fail_timeout=30s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://executors;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host 127.0.0.1;
      proxy_buffering off;
      proxy_read_timeout 120s;
    }
  }
}
`,
    );
    nginx = spawn(NGINX as string, ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let nginxErr = '';
    nginx.stderr?.on('data', (d: Buffer) => (nginxErr += d.toString()));
    url = `http://127.0.0.1:${port}/mcp`;
    for (let i = 0; ; i += 1) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 200) throw new Error(`nginx did not start: ${nginxErr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    client = new Client({ name: 'through-nginx', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  });

  afterAll(async () => {
    await client?.close().catch(() => {});
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((r) => nginx.once('exit', r));
    }
    await Promise.all(replicas.map((r) => r.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a few hundred concurrent calls, every result right, from both replicas', async () => {
    const n = 300;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.callTool({ name: 'execute_python', arguments: { code: `sum(range(${i} * 100))`, inputData: [] } }, undefined, { timeout: 120_000 }),
      ),
    );
    results.forEach((r, i) => {
      expect((r.structuredContent as { result: string }).result).toBe(String(((i * 100) * (i * 100 - 1)) / 2));
    });
    const served = await Promise.all(
      replicas.map(async (replica) => {
        const c = new Client({ name: 'direct', version: '1' });
        await c.connect(new StreamableHTTPClientTransport(new URL(replica.url)));
        const h = (await c.callTool({ name: 'health_check', arguments: {} })).structuredContent as { metrics: { totalExecutions: number } };
        await c.close();
        return h.metrics.totalExecutions;
      }),
    );
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    expect((served[0] ?? 0) + (served[1] ?? 0)).toBe(n);
  });

  it("loses only the calls in flight on a replica that is killed, each with a clear error", { timeout: 120_000 }, async () => {
    const [victim, survivor] = replicas as [HttpTestServer, HttpTestServer];
    let answered = 0;
    const calls = Array.from({ length: 24 }, (_, i) =>
      client
        .callTool({ name: 'execute_python', arguments: { code: `import time\ntime.sleep(2)\n${i}` } }, undefined, { timeout: 120_000 })
        .then(
          (r) => ({ ok: true as const, i, result: (r.structuredContent as { result: string }).result }),
          (error: unknown) => ({ ok: false as const, i, error: String(error) }),
        )
        .finally(() => (answered += 1)),
    );
    // Both replicas have work, and every call has reached one, before one is killed: what the
    // victim holds then is all it can lose.
    let onVictim = { busy: 0, queued: 0 };
    for (let i = 0; ; i += 1) {
      const [a, b] = await Promise.all([health(victim), health(survivor)]);
      if (a.busy > 0 && b.busy > 0 && a.busy + a.queued + b.busy + b.queued + answered === calls.length) {
        onVictim = a;
        break;
      }
      if (i > 400) throw new Error('the calls never all reached the replicas with both at work');
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(servingPid(victim), 'SIGKILL');
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((o) => !o.ok);
    const succeeded = outcomes.filter((o) => o.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(onVictim.busy + onVictim.queued);
    for (const f of failed) expect(f.error).toMatch(/502|fetch failed|terminated|socket|ECONNRESET|other side closed/i);
    for (const s of succeeded) expect(s.result).toBe(String(s.i));

    // Later calls all go to the survivor.
    const after = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.callTool({ name: 'execute_python', arguments: { code: `${i} + 1` } })),
    );
    expect(after.map((r) => (r.structuredContent as { result: string }).result)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i + 1)),
    );
  });
});
