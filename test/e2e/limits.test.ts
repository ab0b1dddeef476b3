import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const TIMEOUT_MS = 1500;

async function health(server: TestServer) {
  const r = await server.call('health_check');
  return r.structuredContent as {
    metrics: { timeouts: number; memoryLimitErrors: number; cancelled: number; rejectedByQueue: number };
    pool: { workers: number; busy: number; queued: number; maxQueue: number; workerRestarts: number };
  };
}

describe('time limit', () => {
  let server: TestServer;
  let hang: net.Server;
  let hangPort = 0;
  beforeAll(async () => {
    // A server that accepts connections and never answers: a JavaScript promise that never settles.
    hang = net.createServer(() => {});
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    hangPort = (hang.address() as net.AddressInfo).port;
    server = await startServer({
      EXECUTION_TIMEOUT_MS: String(TIMEOUT_MS),
      MAX_CONCURRENT_EXECUTIONS: '1',
      ALLOW_NETWORK: 'true',
      NETWORK_ALLOWED_HOSTS: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await server?.close();
    hang?.close();
  });

  const stopped = async (code: string, stoppedBy: RegExp) => {
    const r = await server.run(code);
    expect(r.error?.code).toBe('EXECUTION_TIMEOUT');
    expect(r.error?.message).toMatch(new RegExp(`time limit of ${TIMEOUT_MS} ms`));
    const details = r.error?.details as { timeoutMs: number; elapsedMs: number; stoppedBy: string };
    expect(details.timeoutMs).toBe(TIMEOUT_MS);
    expect(details.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(details.stoppedBy).toMatch(stoppedBy);
    const next = await server.run('21 * 2');
    expect(next.result).toBe('42');
    return r;
  };

  it('stops a busy loop by interrupting Python, keeping the worker', async () => {
    const before = (await health(server)).pool.workerRestarts;
    await stopped('while True:\n    pass', /interrupt/);
    expect((await health(server)).pool.workerRestarts).toBe(before);
  });

  it('stops time.sleep far past the limit', async () => {
    await stopped('import time\ntime.sleep(1000)', /interrupt/);
  });

  it('stops code that catches KeyboardInterrupt and keeps looping, by replacing the worker', async () => {
    const r = await stopped(
      'while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass',
      /worker terminated/,
    );
    expect(r.text).toMatch(/^EXECUTION_TIMEOUT: Execution exceeded the time limit of 1500 ms/);
  });

  it('stops a long single C-level operation', async () => {
    await stopped('sum(range(10**13))', /worker terminated/);
  });

  it('stops an awaited asyncio sleep', async () => {
    await stopped('import asyncio\nawait asyncio.sleep(1000)', /interrupt/);
  });

  it('stops async code that swallows the cancellation and awaits again, by replacing the worker', async () => {
    await stopped(
      'import asyncio\ntry:\n    await asyncio.sleep(1000)\nexcept BaseException:\n    await asyncio.sleep(1000)',
      /worker terminated/,
    );
  });

  it('stops an awaited JavaScript promise that never settles', async () => {
    await stopped(`import js\nawait js.fetch('http://127.0.0.1:${hangPort}/')`, /interrupt/);
  });

  it('keeps the output printed before the limit', async () => {
    const r = await server.run("print('started', flush=True)\nwhile True:\n    pass");
    expect(r.error?.code).toBe('EXECUTION_TIMEOUT');
    expect(r.stdout).toBe('started\n');
  });

  it('lets a call lower the limit but not raise it', async () => {
    const lowered = await server.run('while True:\n    pass', { timeoutMs: 300 });
    expect(lowered.error?.details).toMatchObject({ timeoutMs: 300 });
    const raised = await server.run('while True:\n    pass', { timeoutMs: 60_000 });
    expect(raised.error?.details).toMatchObject({ timeoutMs: TIMEOUT_MS });
  });

  it("names the call's timeoutMs in the hint when that was the limit, and EXECUTION_TIMEOUT_MS when the server's was", async () => {
    const lowered = await server.run('while True:\n    pass', { timeoutMs: 300 });
    expect(lowered.text.split('\n')[0]).toMatch(/Next: make the work smaller or faster, or call again with a larger timeoutMs \(this server allows up to 1500 ms\)\.$/);
    expect(lowered.text).not.toContain('EXECUTION_TIMEOUT_MS');
    const raised = await server.run('while True:\n    pass', { timeoutMs: 60_000 });
    expect(raised.text.split('\n')[0]).toMatch(/Next: make the work smaller or faster, or raise EXECUTION_TIMEOUT_MS\.$/);
  });

  it('counts timeouts and worker restarts in health_check', async () => {
    const h = await health(server);
    expect(h.metrics.timeouts).toBeGreaterThanOrEqual(7);
    expect(h.pool.workerRestarts).toBeGreaterThanOrEqual(2);
  });
});

describe('memory limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ MAX_MEMORY_MB: '96', MAX_CONCURRENT_EXECUTIONS: '1' });
  });
  afterAll(() => server?.close());

  const exceeded = async (code: string) => {
    const r = await server.run(code);
    expect(r.error?.code).toBe('MEMORY_LIMIT_EXCEEDED');
    expect(r.error?.message).toMatch(/limit 96 MiB/);
    const next = await server.run("'ok'");
    expect(next.result).toBe("'ok'");
  };

  it('refuses bytearray(2 * MAX_MEMORY_MB MiB)', async () => {
    await exceeded('bytearray(2 * 96 * 1024 * 1024)');
  });

  it('stops a list that grows without end', async () => {
    await exceeded("l = []\nwhile True:\n    l.append('x' * 1000)");
  });

  it('stops a string doubled in a loop', async () => {
    await exceeded("s = 'x'\nwhile True:\n    s += s");
  });

  it('stops in-memory files that grow without end', async () => {
    await exceeded("with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'x' * 1024 * 1024)");
  });

  it('stops JavaScript objects built from Python (the worker heap), replacing the worker', async () => {
    const r = await server.run('from pyodide.ffi import to_js\nkeep = [to_js(list(range(100_000))) for _ in range(100_000)]');
    expect(r.error?.code).toBe('MEMORY_LIMIT_EXCEEDED');
    expect(r.error?.message).toMatch(/JavaScript memory/);
    expect((await server.run("'ok'")).result).toBe("'ok'");
  });

  it('lets a run use memory freed by an earlier one', async () => {
    for (let i = 0; i < 3; i += 1) {
      const r = await server.run('len(bytearray(60 * 1024 * 1024))');
      expect(r.result).toBe(String(60 * 1024 * 1024));
    }
  });

  it('counts memory errors in health_check', async () => {
    expect((await health(server)).metrics.memoryLimitErrors).toBeGreaterThanOrEqual(5);
  });
});

describe('a worker that dies', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '2' });
  });
  afterAll(() => server?.close());

  it('from os._exit gives a clear error for that call only', async () => {
    const r = await server.run("print('bye')\nimport os\nos._exit(3)");
    expect(r.error?.code).toBe('PYTHON_ERROR');
    // os._exit raises SystemExit (compat_system.py): the interpreter and its worker live on.
    expect(r.error?.message).toMatch(/SystemExit\(3\)/);
    expect(r.stdout).toBe('bye\n');
    expect((await server.run('1')).result).toBe('1');
  });

  it('from a WebAssembly stack overflow (deep recursion, raised recursion limit) gives a clear error', async () => {
    const r = await server.run('import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1)\nf(0)');
    expect(r.status).toBe('error');
    expect(r.error?.code).toMatch(/PYTHON_ERROR|MEMORY_LIMIT_EXCEEDED/);
    expect(r.error?.message).toMatch(/Recursion|recursion|stack/);
    expect((await server.run('2')).result).toBe('2');
  });

  it('loses nothing else that is queued or running', async () => {
    const slow = Array.from({ length: 4 }, (_, i) => server.run(`import time\ntime.sleep(0.3)\n${i}`));
    const crash = server.run('import os\nos._exit(1)');
    const results = await Promise.all([...slow, crash]);
    expect(results.slice(0, 4).map((r) => r.result)).toEqual(['0', '1', '2', '3']);
    expect(results[4]?.error?.code).toBe('PYTHON_ERROR');
  });
});

describe('output floods', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ MAX_OUTPUT_BYTES: '65536', MAX_CONCURRENT_EXECUTIONS: '1' });
  });
  afterAll(() => server?.close());

  it('keep the first and last halves of MAX_OUTPUT_BYTES of each stream and count the rest', async () => {
    const r = await server.call('execute_python', {
      code: "import sys\nfor i in range(100):\n    print(f'{i:04}' + 'x' * 1019)\n    sys.stderr.write('e' * 1024)",
      fullOutput: true,
      timeoutMs: 20_000,
    });
    const s = r.structuredContent as { status: string; stdoutBytes: number; stderrBytes: number };
    expect(s.status).toBe('success');
    expect(s.stdoutBytes).toBe(102400);
    expect(s.stderrBytes).toBe(102400);
    const kept = r.content.find((c) => c.type === 'resource' && c.resource.uri.endsWith('/stdout.txt'));
    const text = kept?.type === 'resource' && 'text' in kept.resource ? kept.resource.text : '';
    expect(text.startsWith('0000x')).toBe(true);
    expect(text.trimEnd().endsWith('0099' + 'x'.repeat(1019))).toBe(true);
    expect(text).toContain(`[… ${102400 - 65536} bytes of stdout cut here …]`);
  });

  it('printing 100 MB does not hold 100 MB anywhere', async () => {
    const r = await server.run("chunk = 'y' * (1024 * 1024)\nfor _ in range(100):\n    print(chunk, end='')\nprint('END')");
    expect(r.stdoutBytes).toBe(100 * 1024 * 1024 + 4);
    expect(r.stdout.trimEnd().endsWith('END')).toBe(true);
    expect(r.stdout.length).toBeLessThan(40_000);
  });
});

describe('queue and cancellation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1', MAX_QUEUE_SIZE: '2', EXECUTION_TIMEOUT_MS: '20000' });
  });
  afterAll(() => server?.close());

  it('refuses calls past the queue at once, with a clear error', async () => {
    const running = server.run('import time\ntime.sleep(1.5)\n"first"');
    await expect.poll(async () => (await health(server)).pool.busy, { timeout: 15_000 }).toBe(1);
    const queued = [server.run('"second"'), server.run('"third"')];
    await expect.poll(async () => (await health(server)).pool.queued, { timeout: 15_000 }).toBe(2);
    const refused = await server.run('"fourth"');
    expect(refused.error?.code).toBe('INTERNAL_ERROR');
    expect(refused.error?.message).toMatch(/busy.*MAX_QUEUE_SIZE=2/);
    expect(refused.error?.details).toMatchObject({ reason: 'QUEUE_FULL' });
    const results = await Promise.all([running, ...queued]);
    expect(results.map((r) => r.result)).toEqual(["'first'", "'second'", "'third'"]);
    expect((await health(server)).metrics.rejectedByQueue).toBe(1);
  });

  it('stops a running execution when the client cancels the request', async () => {
    const controller = new AbortController();
    const call = server.call('execute_python', { code: 'while True:\n    pass' }, { signal: controller.signal });
    await expect.poll(async () => (await health(server)).pool.busy, { timeout: 15_000 }).toBe(1);
    controller.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    await expect.poll(async () => (await health(server)).metrics.cancelled, { timeout: 15_000 }).toBe(1);
    const next = await server.run('"free again"');
    expect(next.result).toBe("'free again'");
    expect((await health(server)).pool.busy).toBe(0);
  });

  it('drops a queued execution when the client cancels it', async () => {
    const running = server.run('import time\ntime.sleep(1)\n"kept"');
    await expect.poll(async () => (await health(server)).pool.busy, { timeout: 15_000 }).toBe(1);
    const controller = new AbortController();
    const queued = server.call('execute_python', { code: "open('/tmp/ran', 'w')\n'ran'" }, { signal: controller.signal });
    await expect.poll(async () => (await health(server)).pool.queued, { timeout: 15_000 }).toBe(1);
    controller.abort();
    await expect(queued).rejects.toThrow();
    expect((await running).result).toBe("'kept'");
    await expect.poll(async () => (await health(server)).metrics.cancelled, { timeout: 15_000 }).toBe(2);
  });
});
