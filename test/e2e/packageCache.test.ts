import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { buildWheel, type BuiltWheel } from '../helpers/wheels.js';

/**
 * Installs come back from the cache whatever set they were requested in. The cache is laid out
 * as two earlier installs leave it (their wheels, and one remembered resolution each:
 * `install_packages(["cache-b==0.9.0"])`, then `install_packages(["cache-a"])` with its
 * dependency), and the index is unreachable.
 */
const OFFLINE_INDEX = 'http://127.0.0.1:9/simple/';

function earlierInstalls(): string {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-sets-'));
  const put = (wheel: BuiltWheel, depends: string[] = []) => {
    const file = path.join(cache, 'wheels', wheel.fileName);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, wheel.bytes);
    return { name: wheel.name, version: wheel.version, kind: 'wheel', file, sha256: wheel.sha256, depends };
  };
  const b = put(buildWheel({ name: 'cache-b', version: '0.9.0' }));
  const c = put(buildWheel({ name: 'cache-c', version: '1.0' }));
  const a = put(buildWheel({ name: 'cache-a', version: '2.0', requires: ['cache-c'] }), ['cache-c']);
  fs.mkdirSync(path.join(cache, 'locks'), { recursive: true });
  fs.writeFileSync(path.join(cache, 'locks', 'earlier-b.json'), JSON.stringify([b]));
  fs.writeFileSync(path.join(cache, 'locks', 'earlier-a.json'), JSON.stringify([c, a]));
  return cache;
}

describe('installs from the cache, whatever set they were requested in', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ PACKAGE_CACHE_DIR: earlierInstalls(), PACKAGE_INDEX_URL: OFFLINE_INDEX, PREINSTALLED_PACKAGES: 'cache-a cache-b' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('installs PREINSTALLED_PACKAGES cached by two other requests with the index down', async () => {
    const r = await server.run('import cache_a, cache_b, cache_c\nprint(cache_a.VERSION, cache_b.VERSION, cache_c.VERSION)');
    expect(r.stdout).toBe('2.0 0.9.0 1.0\n');
  });
});

describe('install_packages answers "from cache"', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ PACKAGE_CACHE_DIR: earlierInstalls(), PACKAGE_INDEX_URL: OFFLINE_INDEX });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('says the packages came from the cache, in the text and the structured result', async () => {
    const r = await server.call('install_packages', { packages: ['cache-b', 'cache-a>=2'] });
    expect(r.isError).toBeFalsy();
    const text = r.content[0]?.type === 'text' ? r.content[0].text : '';
    expect(text.split('\n')[0]).toBe('Installed from cache: cache-b==0.9.0, cache-c==1.0, cache-a==2.0');
    expect(r.structuredContent).toMatchObject({ status: 'success', fromCache: true });
  });
});
