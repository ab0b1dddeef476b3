import { LoggingMessageNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const logs: { level: string; logger?: string; data: unknown }[] = [];
let stray = 0;

beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1' });
  server.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  // Count every progress notification on the wire (the client's own handler stays in place).
  const transport = server.client.transport!;
  const deliver = transport.onmessage!;
  transport.onmessage = (message, extra) => {
    if ('method' in message && message.method === 'notifications/progress') stray += 1;
    deliver(message, extra);
  };
});
afterAll(() => server?.close());

const slow = (seconds: number) => `import time, sys\nfor i in range(${seconds}):\n    print('tick', i, flush=True)\n    time.sleep(1)\n'done'`;

describe('progress', () => {
  it('a 5-second run with a progress token receives several progress notifications, in order', async () => {
    const seen: Progress[] = [];
    const result = await server.client.callTool({ name: 'execute_python', arguments: { code: slow(5) } }, undefined, {
      onprogress: (p) => seen.push(p),
      timeout: 60_000,
    });
    expect((result.structuredContent as { result: string }).result).toBe("'done'");
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen.at(-1)?.message).toMatch(/^running for \d+\.\d s; \d+ B printed$/);
  });

  it('a run without a progress token receives none', async () => {
    const before = stray;
    await server.run(slow(3));
    expect(stray).toBe(before);
  });

  it('cancelling in the middle stops the run', async () => {
    const controller = new AbortController();
    const call = server.client.callTool({ name: 'execute_python', arguments: { code: slow(30) } }, undefined, {
      signal: controller.signal,
      onprogress: () => controller.abort('stop'),
      timeout: 60_000,
    });
    await expect(call).rejects.toThrow();
    const next = await server.run("'free'");
    expect(next.result).toBe("'free'");
    const health = (await server.call('health_check')).structuredContent as { metrics: { cancelled: number } };
    expect(health.metrics.cancelled).toBe(1);
  });
});

describe('output as log messages', () => {
  it('are not sent until the client sets a log level', async () => {
    logs.length = 0;
    await server.run("print('quiet')");
    await server.call('health_check'); // anything sent for the run is handled before this answer
    expect(logs).toEqual([]);
  });

  it('stream stdout at info and stderr at warning while the code runs; the result still holds everything', async () => {
    await server.client.setLoggingLevel('info');
    logs.length = 0;
    const r = await server.run("import sys, time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('oops', file=sys.stderr)\ntime.sleep(0.6)\nprint('last')");
    expect(r.stdout).toBe('first\nlast\n');
    // The server sends the last lines before the result; the client may hand them over after it.
    const streamed = () => logs.filter((l) => l.logger === 'stdout').map((l) => String(l.data)).join('');
    await expect.poll(streamed).toBe('first\nlast\n');
    const stderr = logs.filter((l) => l.logger === 'stderr');
    expect(logs.find((l) => l.logger === 'stdout')?.level).toBe('info');
    expect(stderr.map((l) => [l.level, l.data])).toEqual([['warning', 'oops\n']]);
  });

  it('follow the level: at warning, stdout is not streamed', async () => {
    await server.client.setLoggingLevel('warning');
    logs.length = 0;
    await server.run("import sys\nprint('hidden')\nprint('shown', file=sys.stderr)");
    await expect.poll(() => logs.map((l) => l.logger)).toEqual(['stderr']);
  });
});
