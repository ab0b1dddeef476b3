import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

// Every MCP client starts a server of its own: idle, it holds one warm worker (a spare one while
// calls come), grows to MAX_CONCURRENT_EXECUTIONS under load, and shrinks back after
// WORKER_IDLE_TIMEOUT_MS.
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
    await server.run('print(0)');
    // Longer than the idle timeout without a call: one worker, none started in the background.
    await sleep(3000);
    expect(await workers()).toBe(1);
    // A call brings a spare worker, so the next call need not wait for this one's reset.
    await server.run('print(1)');
    let spare = 0;
    for (let i = 0; i < 40 && spare < 2; i += 1) {
      spare = await workers();
      if (spare < 2) await sleep(50);
    }
    expect(spare).toBe(2);
    // Longer than the idle timeout without a call: the spare goes.
    let now = spare;
    for (let i = 0; i < 40 && now > 1; i += 1) {
      await sleep(250);
      now = await workers();
    }
    expect(now).toBe(1);

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

    now = await workers();
    for (let i = 0; i < 40 && now > 1; i += 1) {
      await sleep(250);
      now = await workers();
    }
    expect(now).toBe(1);
    // The worker left serves the next call.
    expect((await server.run('6 * 7')).result).toBe('42');
  });
});
