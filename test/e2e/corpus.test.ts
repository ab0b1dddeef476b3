import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Everyday snippets as models write them, each with what CPython 3 prints for it (recorded with
 * CPython 3.13 on a host, outputs that do not change between 3.x releases): the server must print
 * the same.
 */
const corpus = JSON.parse(fs.readFileSync(new URL('../fixtures/corpus.json', import.meta.url), 'utf8')) as { code: string; stdout: string }[];

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('everyday Python', () => {
  it('has at least 50 snippets', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
  });

  it.each(corpus.map((entry, index) => [index, entry.code.split('\n')[0], entry] as const))(
    'snippet %i (%s) prints what CPython prints',
    async (_index, _first, entry) => {
      const r = await server.run(entry.code);
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe(entry.stdout);
    },
  );
});
