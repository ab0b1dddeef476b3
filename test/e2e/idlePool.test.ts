import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

// Every MCP client starts a server of its own: idle, it holds one warm worker, grows to
// MAX_CONCURRENT_EXECUTIONS under load, and shrinks back after WORKER_IDLE_TIMEOUT_MS.
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '3', WORKER_IDLE_TIMEOUT_MS: '2000' });
});
afterAll(() => server?.close());

const workers = async (): Promise<number> => {
  const h = (await server.call('health_check')).structuredContent as { pool: { workers: number } };
  return h.pool.workers;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('idle footprint', () => {
  it('holds one warm worker while idle, grows for a burst, and shrinks back after the idle time', async () => {
    await server.run('print(1)');
    // Longer than the idle timeout: no worker is started in the background.
    await sleep(3000);
    expect(await workers()).toBe(1);

    // Three calls at once that each hold a worker: the pool grows to the limit (workers that
    // finish early may already go while the others run, so the peak is what counts).
    let done = false;
    const burst = Promise.all([1, 2, 3].map(() => server.run('import time; time.sleep(4); "done"'))).finally(() => (done = true));
    let peak = 0;
    while (!done) {
      peak = Math.max(peak, await workers());
      await sleep(200);
    }
    for (const r of await burst) expect(r.result).toBe("'done'");
    expect(peak).toBe(3);

    let now = await workers();
    for (let i = 0; i < 40 && now > 1; i += 1) {
      await sleep(250);
      now = await workers();
    }
    expect(now).toBe(1);
    // The worker left serves the next call.
    expect((await server.run('6 * 7')).result).toBe('42');
  });
});
