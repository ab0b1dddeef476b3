import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const MIB = 1024 * 1024;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1' });
});
afterAll(() => server?.close());

describe('stdio messages up to the largest call the settings allow', () => {
  it('runs a 12 MiB call (10 MiB of files and 1 MiB of code)', async () => {
    const files = [0, 1].map((i) => ({ path: `part${i}.txt`, content: String(i).repeat(5 * MIB - 64) }));
    const code = `#${'x'.repeat(MIB - 200)}\nimport os\nsum(os.path.getsize(f'part{i}.txt') for i in range(2))`;
    const r = await server.run(code, { files, inputData: ['y'.repeat(MIB - 64)] });
    expect(r.status).toBe('success');
    expect(r.result).toBe(String(2 * (5 * MIB - 64)));
  });

  it('answers a 100 MiB call with INVALID_INPUT (MESSAGE_TOO_LARGE), and serves the next call', async () => {
    const r = await server.run(`#${'x'.repeat(100 * MIB)}\n1`);
    expect(r.isError).toBe(true);
    expect(r.error?.code).toBe('INVALID_INPUT');
    expect(r.error?.details).toMatchObject({ reason: 'MESSAGE_TOO_LARGE' });
    expect(r.text).toMatch(/^INVALID_INPUT: The message is \d+ bytes; the largest the settings allow is \d+ bytes/);
    expect((await server.run('6 * 7')).result).toBe('42');
    expect(server.connectionErrors).toEqual([]);
  });
});
