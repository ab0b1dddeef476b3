import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

type Exec = { status: string; result: string | null; error?: { code: string; message: string }; sessionState?: string; files: unknown[] };

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_SESSIONS: '2', SESSION_IDLE_TIMEOUT_MS: '4000', EXECUTION_TIMEOUT_MS: '1500', MAX_CONCURRENT_EXECUTIONS: '1' });
});
afterAll(() => server?.close());

const create = async () => {
  const r = await server.call('create_session');
  return (r.structuredContent as { session: { sessionId: string } }).session.sessionId;
};
const run = async (sessionId: string | undefined, code: string, extra: Record<string, unknown> = {}) =>
  (await server.call('execute_python', { code, ...(sessionId ? { sessionId } : {}), ...extra })).structuredContent as Exec;

describe('sessions', () => {
  it('keep variables, imports and files from call to call', async () => {
    const id = await create();
    await run(id, "import json as j\nx = 41\nopen('notes.txt', 'w').write('kept')");
    const r = await run(id, "(x + 1, j.dumps([1]), open('notes.txt').read())");
    expect(r.result).toBe("(42, '[1]', 'kept')");
    await server.call('close_session', { sessionId: id });
  });

  it('never see each other, even with the same variable names', async () => {
    const a = await create();
    const b = await create();
    await run(a, "secret = 'A'");
    await run(b, "secret = 'B'");
    expect((await run(a, 'secret')).result).toBe("'A'");
    const rb = await run(b, 'secret');
    expect(rb.result, JSON.stringify(rb)).toBe("'B'");
    expect((await run(undefined, "'secret' in globals()")).result).toBe('False');
    await server.call('close_session', { sessionId: a });
    await server.call('close_session', { sessionId: b });
  });

  it('are bounded by MAX_SESSIONS', async () => {
    const a = await create();
    const b = await create();
    const r = await server.call('create_session');
    expect(r.isError).toBe(true);
    expect((r.structuredContent as Exec).error?.message).toMatch(/All 2 sessions are in use \(MAX_SESSIONS\)/);
    await server.call('close_session', { sessionId: a });
    await server.call('close_session', { sessionId: b });
  });

  it('run their calls one at a time, in order', async () => {
    const id = await create();
    await run(id, 'log = []');
    await Promise.all(Array.from({ length: 5 }, (_, i) => run(id, `import time\ntime.sleep(0.05)\nlog.append(${i})`)));
    expect((await run(id, 'log')).result).toBe('[0, 1, 2, 3, 4]');
    await server.call('close_session', { sessionId: id });
  });

  it('answer a call that was waiting for the session to start when the session is closed', async () => {
    const id = await create(); // its interpreter starts in the background (about a second)
    const waiting = run(id, '1 + 1');
    await server.call('close_session', { sessionId: id });
    const r = await waiting;
    expect(r.status).toBe('error');
    expect(r.error?.message).toMatch(/did not run: its interpreter was shut down first|shutting down/);
  });

  it('can be reset and closed', async () => {
    const id = await create();
    await run(id, 'x = 1\nimport ftplib, os\nopen("kept.txt", "w").write("1")\nos.chdir("/tmp")');
    const replacedBefore = server.stderr().split('"message":"worker replaced"').length;
    await server.call('reset_session', { sessionId: id });
    const after = await run(id, "import sys, os\n('x' in globals(), 'ftplib' in sys.modules, os.listdir('.'), os.getcwd())");
    expect(after.result).toBe("(False, False, [], '/home/pyodide/work')");
    // The same memory rewrite as after every call outside a session: the worker stays.
    expect(server.stderr().split('"message":"worker replaced"').length).toBe(replacedBefore);
    const closed = await server.call('close_session', { sessionId: id });
    expect((closed.structuredContent as { closed: boolean }).closed).toBe(true);
    const gone = await run(id, '1');
    expect(gone.error?.code).toBe('INVALID_INPUT');
    expect(gone.error?.message).toMatch(/No session/);
  });

  it('say a timeout kept the state when the interrupt stopped the code', async () => {
    const id = await create();
    await run(id, 'x = 7');
    const r = await run(id, 'while True:\n    pass');
    expect(r.error?.code).toBe('EXECUTION_TIMEOUT');
    expect(r.sessionState).toBe('kept');
    expect((await run(id, 'x')).result).toBe('7');
    await server.call('close_session', { sessionId: id });
  });

  it('say a timeout lost the state when the worker had to be replaced', async () => {
    const id = await create();
    await run(id, 'x = 7');
    const r = await server.call('execute_python', { sessionId: id, code: 'sum(range(10**13))' });
    const s = r.structuredContent as Exec;
    expect(s.error?.code).toBe('EXECUTION_TIMEOUT');
    expect(s.sessionState).toBe('lost');
    expect(r.content[0]?.type === 'text' && r.content[0].text).toMatch(/The session's state was lost/);
    expect((await run(id, "'x' in globals()")).result).toBe('False');
    await server.call('close_session', { sessionId: id });
  });

  it('are listed by health_check with age, idle time and memory', async () => {
    const id = await create();
    await run(id, 'y = 1');
    const h = (await server.call('health_check')).structuredContent as { sessions: { sessionId: string; ageMs: number; idleMs: number; memoryMb: number; executions: number }[] };
    expect(h.sessions).toEqual([expect.objectContaining({ sessionId: id, executions: 1 })]);
    expect(h.sessions[0]?.memoryMb).toBeGreaterThan(0);
    await server.call('close_session', { sessionId: id });
  });

  it('expire after SESSION_IDLE_TIMEOUT_MS', async () => {
    const id = await create();
    await run(id, 'z = 1');
    await expect
      .poll(async () => ((await server.call('health_check')).structuredContent as { sessions: unknown[] }).sessions.length, { timeout: 15_000, interval: 500 })
      .toBe(0);
    expect((await run(id, 'z')).error?.message).toMatch(/No session/);
  });
});

describe('sessions off', () => {
  it('with MAX_SESSIONS=0 the session tools are not offered', async () => {
    const off = await startServer({ MAX_SESSIONS: '0' });
    try {
      const { tools } = await off.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('create_session');
      expect(tools.find((t) => t.name === 'execute_python')?.description).toMatch(/fresh namespace: define everything you need in the same call/);
      const r = await off.run('1', { sessionId: 'abc' });
      expect(r.error?.code).toBe('INVALID_INPUT');
    } finally {
      await off.close();
    }
  });
});
