import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpTestServer } from '../helpers/server.js';

const token = 'a-long-enough-secret-token-1234';
const auth = { authorization: `Bearer ${token}` };

type Health = { sessions?: unknown[]; sessionCounts: { open: number; yours: number; max: number } };

describe('HTTP sessions belong to the client that created them', () => {
  let server: HttpTestServer;
  let alice: Client;
  let mallory: Client;
  let sessionId = '';
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;

  beforeAll(async () => {
    server = await startHttpServer({ MAX_SESSIONS: '2', MCP_AUTH_TOKEN: token, MAX_CONCURRENT_EXECUTIONS: '1' });
    alice = await server.connect(auth);
    mallory = await server.connect(auth);
    const created = await call(alice, 'create_session');
    sessionId = (created.structuredContent as { session: { sessionId: string } }).session.sessionId;
    await call(alice, 'execute_python', { code: "secret = 'alice'", sessionId });
  });
  afterAll(() => server?.close());

  it('serves its creator', async () => {
    const r = await call(alice, 'execute_python', { code: 'secret', sessionId });
    expect((r.structuredContent as { result: string }).result).toBe("'alice'");
  });

  it('is unknown to another client with the same token', async () => {
    const r = await call(mallory, 'execute_python', { code: "secret = 'mallory'", sessionId });
    expect(r.isError).toBe(true);
    expect((r.structuredContent as { error: { code: string; details: { reason: string } } }).error).toMatchObject({
      code: 'INVALID_INPUT',
      details: { reason: 'UNKNOWN_SESSION' },
    });
    const reset = await call(mallory, 'reset_session', { sessionId });
    expect(reset.isError).toBe(true);
    const closed = await call(mallory, 'close_session', { sessionId });
    expect((closed.structuredContent as { closed: boolean }).closed).toBe(false);
    const still = await call(alice, 'execute_python', { code: 'secret', sessionId });
    expect((still.structuredContent as { result: string }).result).toBe("'alice'");
  });

  it('shows in health_check as a count, never by id', async () => {
    for (const [client, yours] of [
      [alice, 1],
      [mallory, 0],
    ] as const) {
      const h = await call(client, 'health_check');
      expect((h.structuredContent as Health).sessions).toBeUndefined();
      expect((h.structuredContent as Health).sessionCounts).toEqual({ open: 1, yours, max: 2 });
      expect(JSON.stringify(h)).not.toContain(sessionId);
    }
  });
});
