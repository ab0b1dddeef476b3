import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/** Output sized for a model: one answer holds OUTPUT_BUDGET_BYTES (default 32 KiB) of output. */

type Structured = {
  status: string;
  stdout: string;
  stderr: string;
  result: string | null;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
};

const textOf = (r: CallToolResult) => (r.content[0]?.type === 'text' ? r.content[0].text : '');
const resources = (r: CallToolResult) =>
  r.content.flatMap((c) => (c.type === 'resource' && 'text' in c.resource ? [{ uri: c.resource.uri, text: c.resource.text }] : []));
const cutOf = (text: string, stream: string) => Number(new RegExp(`\\[… (\\d+) bytes of ${stream} cut here …\\]`).exec(text)?.[1] ?? NaN);

/** 2 MB on each stream (101-byte numbered lines), so the head and the tail can be checked. */
const FLOOD = "import sys\nfor i in range(20000):\n    print(f'out {i:05} ' + 'o' * 90)\n    sys.stderr.write(f'err {i:05} ' + 'e' * 90 + '\\n')";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1' });
});
afterAll(() => server?.close());

describe('output sized for a model', () => {
  it('answers 2 MB on each stream with the head and tail of each, in about the budget', async () => {
    const r = await server.call('execute_python', { code: FLOOD }, { timeout: 120_000 });
    const s = r.structuredContent as Structured;
    expect(s.stdoutBytes).toBe(20000 * 101);
    expect(s.stdoutTruncated && s.stderrTruncated).toBe(true);
    const text = textOf(r);
    expect(text).toMatch(/^\[stdout\]\nout 00000 o+\n/);
    expect(text).toContain('out 19999 ');
    expect(text).toContain('err 00000 ');
    expect(text).toContain('err 19999 ');
    // The mark counts exactly what the answer left out of what was printed.
    const shownStdout = Buffer.byteLength(s.stdout.replace(/\[… \d+ bytes of stdout cut here …\]\n/, ''));
    expect(cutOf(s.stdout, 'stdout')).toBe(s.stdoutBytes - shownStdout);
    expect(Buffer.byteLength(s.stdout) + Buffer.byteLength(s.stderr)).toBeLessThanOrEqual(32768 + 200);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(2 * 32768 + 8192);
    expect(text.match(/fullOutput: true/g)).toHaveLength(1);
  });

  it('leaves output under the budget whole, with no mark and no note', async () => {
    const r = await server.call('execute_python', { code: "print('a' * 1000)\n'b' * 100" });
    expect(textOf(r)).toBe(`[stdout]\n${'a'.repeat(1000)}\n\n[result]\n'${'b'.repeat(100)}'`);
    expect((r.structuredContent as Structured).stdoutTruncated).toBe(false);
  });

  it('gives a short stream all it needs and the rest of the budget to a long one', async () => {
    const r = await server.call('execute_python', { code: "import sys\nsys.stderr.write('warning: careful\\n')\nprint('z' * 100_000)" });
    const s = r.structuredContent as Structured;
    expect(s.stderr).toBe('warning: careful\n');
    expect(s.stdoutTruncated).toBe(true);
    expect(Buffer.byteLength(s.stdout)).toBeGreaterThan(32768 - 100);
  });

  it('cuts a long result the same way', async () => {
    const r = await server.call('execute_python', { code: "'<' + 'r' * 100_000 + '>'" });
    const s = r.structuredContent as Structured;
    expect(s.result?.startsWith("'<rrr")).toBe(true);
    expect(s.result?.endsWith("rrr>'")).toBe(true);
    expect(cutOf(s.result ?? '', 'result')).toBeGreaterThan(60_000);
  });

  it('returns all that was kept as text resources when asked with fullOutput', async () => {
    const r = await server.call('execute_python', { code: FLOOD, fullOutput: true }, { timeout: 120_000 });
    const kept = resources(r);
    expect(kept.map((k) => k.uri.replace(/^python-output:\/\/\/[\w-]+\//, ''))).toEqual(['stdout.txt', 'stderr.txt']);
    const stdout = kept[0]?.text ?? '';
    expect(stdout.startsWith('out 00000 ')).toBe(true);
    expect(stdout).toContain('out 19999 ');
    // MAX_OUTPUT_BYTES (1 MiB) of the 2 MB were kept: the worker's own cut is marked.
    expect(Buffer.byteLength(stdout)).toBeGreaterThan(1024 * 1024 - 200);
    expect(cutOf(stdout, 'stdout')).toBe(20000 * 101 - 1024 * 1024);
    // The answer's text is still the cut one, and says where the rest is.
    expect(Buffer.byteLength(textOf(r))).toBeLessThan(32768 + 1024);
    expect(textOf(r)).toContain(`all that was kept is attached: ${kept[0]?.uri}, ${kept[1]?.uri}`);
  });

  it('keeps a failure with a huge message and traceback within the budget', async () => {
    const r = await server.call('execute_python', { code: "def f():\n    raise ValueError('v' * 500_000)\nf()" });
    const s = r.structuredContent as Structured & { error: { code: string; message: string; details: { traceback: string } } };
    expect(s.error.code).toBe('PYTHON_ERROR');
    expect(s.error.message).toMatch(/^ValueError: v+\n\[… \d+ bytes of message cut here …\]\nv+/);
    expect(s.error.details.traceback).toMatch(/^Traceback \(most recent call last\):/);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(2 * 32768 + 8192);
  });

  it('attaches nothing with fullOutput when nothing was cut', async () => {
    const r = await server.call('execute_python', { code: "print('short')", fullOutput: true });
    expect(resources(r)).toEqual([]);
    expect(textOf(r)).toBe('[stdout]\nshort');
  });
});
