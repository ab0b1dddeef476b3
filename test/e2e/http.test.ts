import http from 'node:http';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpTestServer } from '../helpers/server.js';

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('streamable HTTP', () => {
  let server: HttpTestServer;
  beforeAll(async () => {
    server = await startHttpServer({ HTTP_MAX_BODY_BYTES: '65536', MAX_CONCURRENT_EXECUTIONS: '2' });
  });
  afterAll(() => server?.close());

  it('binds 127.0.0.1 and serves /mcp', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  });

  it('runs Python for an SDK client, statelessly, across many requests', async () => {
    const client = await server.connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['execute_python', 'health_check', 'install_packages']);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.callTool({ name: 'execute_python', arguments: { code: `${i} * 2` } })),
    );
    expect(results.map((r) => (r.structuredContent as { result: string }).result)).toEqual(['0', '2', '4', '6', '8', '10', '12', '14']);
    expect(server.stderr()).not.toMatch(/mcp-session-id/);
  });

  it('answers create_session once, saying sessions are off and MAX_SESSIONS turns them on', async () => {
    const client = await server.connect();
    const error = await client.callTool({ name: 'create_session', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: number },
    );
    expect(error?.code).toBe(-32602);
    expect(error?.message).toBe(
      "MCP error -32602: Tool 'create_session' is not offered: sessions are off on this server (MAX_SESSIONS=0, the default over HTTP); set MAX_SESSIONS to a number above 0 to turn them on. Available: execute_python, install_packages, health_check",
    );
  });

  it('sends progress on the request stream', async () => {
    const client = await server.connect();
    const seen: Progress[] = [];
    await client.callTool(
      { name: 'execute_python', arguments: { code: 'import time\ntime.sleep(4.5)' } },
      undefined,
      { onprogress: (p) => seen.push(p), timeout: 60_000 },
    );
    expect(seen.length).toBeGreaterThanOrEqual(2);
  });

  it('answers /healthz for load balancers', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', maxWorkers: 2, queued: 0 });
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    // fetch() will not send a Host header of our choosing; node:http will.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(server.url, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(initialize));
    });
    expect(status).toBe(403);
    expect(body).toMatch(/Host 'evil\.example' is not allowed/);
  });

  it('refuses a foreign Origin', async () => {
    const response = await post(server.url, initialize, { origin: 'https://evil.example' });
    expect(response.status).toBe(403);
  });

  it('refuses a body over HTTP_MAX_BODY_BYTES with 413', async () => {
    const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'execute_python', arguments: { code: `# ${'x'.repeat(70_000)}` } } };
    const response = await post(server.url, call);
    expect(response.status).toBe(413);
  });

  it('answers GET on /mcp with 405: there are no sessions to stream to', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers other paths with 404', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });
});

describe('a bearer token (MCP_AUTH_TOKEN)', () => {
  const token = 'a-long-enough-secret-token-1234';
  let server: HttpTestServer;
  beforeAll(async () => {
    server = await startHttpServer({ MCP_AUTH_TOKEN: token, MAX_CONCURRENT_EXECUTIONS: '1' });
  });
  afterAll(() => server?.close());

  it('is required: a request without it gets 403 "Token required" and no OAuth challenge', async () => {
    const response = await post(server.url, initialize);
    expect(response.status).toBe(403);
    // A `WWW-Authenticate: Bearer` challenge is what sends clients into OAuth discovery.
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: "Token required: no bearer token was sent. Send the header 'Authorization: Bearer <token>' with the server's MCP_AUTH_TOKEN" },
      id: null,
    });
  });

  it('must match, and a wrong one is named as such without being echoed', async () => {
    for (const authorization of [`Bearer ${token}x`, token]) {
      const response = await post(server.url, initialize, { authorization });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toBeNull();
      const text = await response.text();
      expect(text).toContain("Token required: the bearer token sent does not match the server's MCP_AUTH_TOKEN");
      expect(text).not.toContain(token);
    }
  });

  it('is what the SDK client reports when connecting without it', async () => {
    await expect(server.connect()).rejects.toThrow(/Token required: no bearer token was sent/);
  });

  it('lets a client with the token in', async () => {
    const client = await server.connect({ authorization: `Bearer ${token}` });
    const r = await client.callTool({ name: 'execute_python', arguments: { code: "'in'" } });
    expect((r.structuredContent as { result: string }).result).toBe("'in'");
  });

  it('is not needed for /healthz, which says nothing secret', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).not.toContain(token);
  });
});
