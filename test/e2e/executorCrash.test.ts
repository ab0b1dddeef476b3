import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type ExecResult, type TestServer } from '../helpers/server.js';

type Health = { pool: { busy: number; executorCrashes: number; executorCrashesByCause: Record<string, number> } };

/** The pid of the executor process now running, from its "executor starting" log line. */
function executorPid(server: TestServer): number {
  const pids = server
    .stderr()
    .split('\n')
    .filter((line) => line.includes('"message":"executor starting"'))
    .map((line) => (JSON.parse(line) as { context: { pid: number } }).context.pid);
  const pid = pids.at(-1);
  if (pid === undefined) throw new Error('no executor started yet');
  return pid;
}

const health = async (server: TestServer) => (await server.call('health_check')).structuredContent as Health;

describe('the process that runs Python dies (SIGKILL)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '2' });
    expect((await server.run('1 + 1')).result).toBe('2');
  });
  afterAll(() => server?.close());

  it('answers the calls in flight, reports lost sessions, and serves the next call; three times in a row', async () => {
    const pids = new Set<number>();
    for (let round = 1; round <= 3; round += 1) {
      const created = await server.call('create_session');
      const sessionId = (created.structuredContent as { session: { sessionId: string } }).session.sessionId;
      expect((await server.run('x = 41', { sessionId })).status).toBe('success');

      const inFlight: Promise<ExecResult>[] = [server.run('import time\ntime.sleep(120)'), server.run('while True: pass')];
      await vi.waitFor(async () => expect((await health(server)).pool.busy).toBe(2), { timeout: 30_000, interval: 200 });
      const pid = executorPid(server);
      pids.add(pid);
      process.kill(pid, 'SIGKILL');

      for (const r of await Promise.all(inFlight)) {
        expect(r.isError).toBe(true);
        expect(r.error?.code).toBe('INTERNAL_ERROR');
        expect(r.error?.details).toMatchObject({ reason: 'EXECUTOR_EXIT', cause: 'SIGKILL' });
        expect(r.text).toMatch(/^INTERNAL_ERROR: The Python process ended \(SIGKILL\) during the call; retry it/);
      }
      const lost = (await server.call('execute_python', { code: 'x + 1', sessionId })).structuredContent as ExecResult & { sessionState: string };
      expect(lost.sessionState).toBe('lost');
      expect(lost.error?.details).toMatchObject({ reason: 'SESSION_LOST' });
      // Told once; after that the id is simply unknown.
      const after = await server.run('x + 1', { sessionId });
      expect(after.error?.details).toMatchObject({ reason: 'UNKNOWN_SESSION' });

      // The replacement serves the next call within a few seconds (the client gives up after 15 s).
      const next = await server.call('execute_python', { code: '6 * 7' }, { timeout: 15_000 });
      expect((next.structuredContent as ExecResult).result).toBe('42');
      expect(executorPid(server)).not.toBe(pid);
    }
    expect(pids.size).toBe(3);
    const report = await health(server);
    expect(report.pool.executorCrashes).toBe(3);
    expect(report.pool.executorCrashesByCause).toEqual({ SIGKILL: 3 });
    expect(server.connectionErrors).toEqual([]);
  }, 240_000);
});
