import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { describeUnless } from '../helpers/skips.js';
import {
  buildDistribution,
  buildWheel,
  findMicropipWheel,
  micropipEntry,
  startIndexServer,
  startStaticServer,
  zip,
  type BuiltWheel,
} from '../helpers/wheels.js';

type InstallResult = {
  status: string;
  installed: { name: string; version: string }[];
  alreadyInstalled: { name: string; version: string }[];
  durationMs: number;
  error?: { code: string; message: string; details?: { reason?: string; packages?: string[] } };
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-packages-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const freshCache = (name: string) => fs.mkdtempSync(path.join(tmp, `${name}-cache-`));

// A distribution of our own: distpkg needs distdep; extra packages for the failure cases.
const distdep = buildWheel({ name: 'distdep', version: '2.0' });
const distpkg = buildWheel({ name: 'distpkg', version: '1.0', requires: ['distdep'] });
const lonely = buildWheel({ name: 'lonely', version: '0.3' });
const later = buildWheel({ name: 'later', version: '5.0' });
// Its import does what a run may not (ctypes): installing imports it outside any run.
const ctpkg = buildWheel({
  name: 'ctpkg',
  version: '1.0',
  files: { 'ctpkg/__init__.py': "import ctypes\nBUF = ctypes.create_string_buffer(8)\nVERSION = '1.0'\n" },
});
const distWheels = [distdep, { ...distpkg, depends: ['distdep'] }, lonely, later, ctpkg];

function distribution(name: string, extra: ReturnType<typeof micropipEntry>[] = []): string {
  const dir = path.join(tmp, name);
  buildDistribution(dir, distWheels, extra);
  return dir;
}

async function install(server: TestServer, packages: unknown): Promise<InstallResult & { text: string }> {
  const r = await server.call('install_packages', { packages });
  const text = r.content[0]?.type === 'text' ? r.content[0].text : '';
  return { ...(r.structuredContent as InstallResult), text };
}

async function health(server: TestServer) {
  return (await server.call('health_check')).structuredContent as {
    health: string;
    packages: { name: string; version: string }[];
    problems: string[];
  };
}

describe('from a local distribution, without micropip', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ PYODIDE_DIST_DIR: distribution('dist-local'), PACKAGE_CACHE_DIR: freshCache('local') });
  });
  afterAll(() => server?.close());

  it('installs a package of the distribution with its dependency and lists both with versions', async () => {
    const r = await install(server, ['distpkg']);
    expect(r.status).toBe('success');
    expect(r.installed).toEqual([
      { name: 'distdep', version: '2.0' },
      { name: 'distpkg', version: '1.0' },
    ]);
    expect(r.text).toMatchInlineSnapshot(`
      "Installed: distdep==2.0, distpkg==1.0
      Import them in execute_python."
    `);
  });

  it('makes it importable in every worker', async () => {
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => server.run('import distpkg, distdep\n(distpkg.VERSION, distdep.VERSION)')),
    );
    for (const r of runs) expect(r.result).toBe("('1.0', '2.0')");
  });

  it("imports an installed package into every worker's reset point, even one whose import a run could not do", async () => {
    expect((await install(server, ['ctpkg'])).status).toBe('success');
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => server.run("import sys\nwarm = 'ctpkg' in sys.modules\nimport ctpkg\n(warm, ctpkg.VERSION)")),
    );
    for (const r of runs) expect(r.result, JSON.stringify(r)).toBe("(True, '1.0')");
  });

  it('says what was already there', async () => {
    const r = await install(server, ['distpkg==1.0', 'distdep']);
    expect(r.installed).toEqual([]);
    expect(r.alreadyInstalled).toEqual([
      { name: 'distpkg', version: '1.0' },
      { name: 'distdep', version: '2.0' },
    ]);
  });

  it('refuses a package outside the distribution, saying micropip is unavailable and how to make it available offline', async () => {
    const r = await install(server, ['requests']);
    expect(r.error?.code).toBe('PACKAGE_INSTALLATION_ERROR');
    expect(r.error?.details).toMatchObject({ reason: 'MICROPIP_UNAVAILABLE', packages: ['requests'] });
    expect(r.error?.message).toMatch(/'requests' is not in the Pyodide distribution/);
    expect(r.error?.message).toMatch(/micropip.*unavailable/);
    expect(r.text.split('\n')[0]).toMatch(/Next: put micropip-\*\.whl .* in PYODIDE_DIST_DIR/);
  });

  it('refuses a version the distribution does not have', async () => {
    const r = await install(server, ['lonely>=1']);
    expect(r.error?.code).toBe('PACKAGE_INSTALLATION_ERROR');
    expect(r.error?.message).toMatch(/'lonely>=1' does not match the Pyodide distribution's lonely 0.3/);
  });

  it('leaves the environment as it was after a failed install', async () => {
    const r = await install(server, ['lonely', 'nosuchpkg']);
    expect(r.error?.code).toBe('PACKAGE_INSTALLATION_ERROR');
    const imported = await server.run('import lonely');
    expect(imported.error?.details?.type).toBe('ModuleNotFoundError');
    expect((await health(server)).packages.map((p) => p.name)).toEqual(['ctpkg', 'distdep', 'distpkg']);
  });

  it.each([
    ['an empty list', [], /the list is empty/],
    ['an empty name', [''], /packages\[0\] '' is empty/],
    ['shell syntax', ['numpy; rm -rf /'], /contains shell syntax/],
    ['a URL', ['https://example.com/x.whl'], /is a URL or path/],
    ['a name with a space', ['two words'], /is not a valid requirement/],
    ['an absurdly long list', Array.from({ length: 51 }, (_, i) => `p${i}`), /51 packages in one call; the limit is 50/],
    ['not a list', 'numpy', /packages: expected array/],
  ])('answers %s with INVALID_INPUT', async (_name, packages, message) => {
    const r = await install(server, packages);
    expect(r.error?.code).toBe('INVALID_INPUT');
    expect(r.error?.message).toMatch(message);
  });

  it('gives the packages to workers started later (after a crash)', async () => {
    await server.run('import os\nos._exit(1)');
    await server.run('import os\nos._exit(1)');
    const runs = await Promise.all(Array.from({ length: 4 }, () => server.run('import distpkg\ndistpkg.NAME')));
    for (const r of runs) expect(r.result).toBe("'distpkg'");
  });

  it('does not block or break an execution running during an install', async () => {
    const controller = new AbortController();
    let running = true;
    const execution = server
      .call('execute_python', { code: "print('still running')\nwhile True:\n    pass" }, { signal: controller.signal })
      .finally(() => (running = false));
    await expect.poll(async () => ((await server.call('health_check')).structuredContent as { pool: { busy: number } }).pool.busy, { timeout: 15_000 }).toBe(1);
    const r = await install(server, ['later']);
    expect(r.installed).toEqual([{ name: 'later', version: '5.0' }]);
    expect(running).toBe(true);
    expect((await server.run('import later\nlater.VERSION')).result).toBe("'5.0'");
    controller.abort();
    await expect(execution).rejects.toThrow();
  });

  it('lists installed packages in health_check', async () => {
    const h = await health(server);
    expect(h.packages).toEqual([
      { name: 'ctpkg', version: '1.0' },
      { name: 'distdep', version: '2.0' },
      { name: 'distpkg', version: '1.0' },
      { name: 'later', version: '5.0' },
    ]);
    expect(h.health).toBe('ok');
  });
});

describe('PREINSTALLED_PACKAGES', () => {
  it('are installed before the first execution is served', async () => {
    const server = await startServer({
      PYODIDE_DIST_DIR: distribution('dist-pre'),
      PACKAGE_CACHE_DIR: freshCache('pre'),
      PREINSTALLED_PACKAGES: 'distpkg lonely',
    });
    try {
      expect((await server.run('import distpkg, lonely\nlonely.VERSION')).result).toBe("'0.3'");
      expect((await health(server)).packages.map((p) => p.name)).toEqual(['distdep', 'distpkg', 'lonely']);
    } finally {
      await server.close();
    }
  });

  it('that fail are logged and reported, and executions are still served', async () => {
    const server = await startServer({
      PYODIDE_DIST_DIR: distribution('dist-pre-bad'),
      PACKAGE_CACHE_DIR: freshCache('pre-bad'),
      PREINSTALLED_PACKAGES: 'nosuchpkg',
    });
    try {
      expect((await server.run('6 * 7')).result).toBe('42');
      const h = await health(server);
      expect(h.health).toBe('degraded');
      expect(h.problems).toEqual([expect.stringMatching(/^PREINSTALLED_PACKAGES could not be installed: .*nosuchpkg/)]);
      expect(server.stderr()).toMatch(/"message":"preinstall failed"/);
    } finally {
      await server.close();
    }
  });
});

describe('downloads and the cache', () => {
  it('downloads from a Pyodide mirror once; a second start installs the same packages with the mirror gone', async () => {
    const mirror = await startStaticServer(distribution('dist-mirror'));
    const cache = freshCache('mirror');
    const first = await startServer({ PYODIDE_DIST_URL: mirror.url, PACKAGE_CACHE_DIR: cache });
    try {
      const r = await install(first, ['distpkg']);
      expect(r.installed.map((p) => p.name)).toEqual(['distdep', 'distpkg']);
      expect(mirror.requests).toEqual(expect.arrayContaining(['pyodide-lock.json', distpkg.fileName, distdep.fileName]));
    } finally {
      await first.close();
      await mirror.close();
    }
    const second = await startServer({ PYODIDE_DIST_URL: mirror.url, PACKAGE_CACHE_DIR: cache, PREINSTALLED_PACKAGES: 'distpkg' });
    try {
      expect((await second.run('import distpkg, distdep\ndistdep.VERSION')).result).toBe("'2.0'");
      expect(second.stderr()).toMatch(/"message":"packages installed from the cache"/);
    } finally {
      await second.close();
    }
  });

  it('refuses a cached wheel that was changed after it was installed', async () => {
    const mirror = await startStaticServer(distribution('dist-poison'));
    const cache = freshCache('poison');
    const first = await startServer({ PYODIDE_DIST_URL: mirror.url, PACKAGE_CACHE_DIR: cache });
    await install(first, ['lonely']);
    await first.close();
    await mirror.close();
    const cached = path.join(cache, 'pyodide', lonely.fileName);
    fs.writeFileSync(cached, zip({ 'lonely/__init__.py': 'import os\nVERSION = "evil"\n' }));
    const second = await startServer({ PYODIDE_DIST_URL: mirror.url, PACKAGE_CACHE_DIR: cache });
    try {
      const r = await install(second, ['lonely']);
      expect(r.status).toBe('error');
      expect((await second.run('import lonely\nlonely.VERSION')).error?.details?.type).toBe('ModuleNotFoundError');
    } finally {
      await second.close();
    }
  });

  it('fails quickly with NETWORK_UNREACHABLE when the distribution cannot be reached', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const server = await startServer({ PYODIDE_DIST_URL: `http://127.0.0.1:${port}/`, PACKAGE_CACHE_DIR: freshCache('down') });
    try {
      const r = await install(server, ['requests']);
      expect(r.error?.code).toBe('PACKAGE_INSTALLATION_ERROR');
      expect(r.error?.details?.reason).toBe('NETWORK_UNREACHABLE');
      expect(r.error?.message).toMatch(/127\.0\.0\.1:\d+: ECONNREFUSED/);
    } finally {
      await server.close();
    }
  });

  it('fails quickly, without hanging, when the Pyodide CDN is unreachable (this machine is offline)', async () => {
    const server = await startServer({ PACKAGE_CACHE_DIR: freshCache('cdn') });
    try {
      const r = await install(server, ['numpy']);
      expect(r.error?.code).toBe('PACKAGE_INSTALLATION_ERROR');
      expect(r.error?.details?.reason).toBe('NETWORK_UNREACHABLE');
      expect(r.text.split('\n')[0]).toMatch(
        /^PACKAGE_INSTALLATION_ERROR: Could not install numpy: could not download numpy from the Pyodide distribution \([\w.]+: \w+\)\. Next: check the network, or set PYODIDE_DIST_DIR/,
      );
      expect(r.durationMs).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('says an offline pinned version failed for the network first, not for the version', async () => {
    const server = await startServer({ PACKAGE_CACHE_DIR: freshCache('pinned') });
    try {
      const r = await install(server, ['attrs==23.2.0']);
      expect(r.error?.details?.reason).toBe('NETWORK_UNREACHABLE');
      expect(r.error?.message).toMatch(/^Could not install attrs==23\.2\.0: the network is unreachable \(/);
      expect(r.text.match(/Next:/g)).toHaveLength(1);
      expect(r.text).not.toMatch(/check the package names/);
    } finally {
      await server.close();
    }
  });
});

const micropip = findMicropipWheel();

describeUnless(micropip ? undefined : 'no micropip wheel: set MICROPIP_WHEEL, or put micropip-0.11.1-py3-none-any.whl in ../shared/fixtures/', 'the real micropip path', () => {
  let index: Awaited<ReturnType<typeof startIndexServer>>;
  let server: TestServer;
  let dist: string;
  const cache = freshCache('micropip');
  const idxdep = buildWheel({ name: 'idxdep', version: '0.5' });
  const idxpkg = buildWheel({ name: 'idx-pkg', version: '3.1', requires: ['idxdep>=0.1'] });
  const idxOld = buildWheel({ name: 'idx-pkg', version: '2.0', requires: ['idxdep>=0.1'] });
  const native: BuiltWheel = { ...buildWheel({ name: 'nativepkg', version: '1.0' }), fileName: 'nativepkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl' };
  beforeAll(async () => {
    index = await startIndexServer([idxdep, idxpkg, idxOld, native]);
    dist = distribution('dist-micropip', [micropipEntry(micropip as string)]);
    server = await startServer({ PYODIDE_DIST_DIR: dist, PACKAGE_INDEX_URL: index.url, PACKAGE_CACHE_DIR: cache });
  });
  afterAll(async () => {
    await server?.close();
    await index?.close();
  });

  it('installs a pure-Python wheel from the index with its dependency, for every worker', async () => {
    const r = await install(server, ['idx-pkg>=3']);
    expect(r.installed).toEqual([
      { name: 'idxdep', version: '0.5' },
      { name: 'idx-pkg', version: '3.1' },
    ]);
    const runs = await Promise.all(Array.from({ length: 4 }, () => server.run('import idx_pkg, idxdep\nidx_pkg.VERSION')));
    for (const run of runs) expect(run.result).toBe("'3.1'");
  });

  it('reports an unknown package', async () => {
    const r = await install(server, ['no-such-package']);
    expect(r.error?.details?.reason).toBe('UNKNOWN_PACKAGE');
    expect(r.error?.message).toMatch(/no package named 'no-such-package'/);
  });

  it('reports a package with no wheel Pyodide can use', async () => {
    const r = await install(server, ['nativepkg']);
    expect(r.error?.details?.reason).toBe('NO_COMPATIBLE_WHEEL');
  });

  it('reports a version conflict', async () => {
    const r = await install(server, ['idx-pkg==2.0']);
    expect(r.error?.details?.reason).toBe('VERSION_CONFLICT');
    expect(r.error?.message).toMatch(/idx-pkg==2\.0.*3\.1 is already installed/);
  });

  it('reports an unreachable index', async () => {
    const offline = await startServer({ PYODIDE_DIST_DIR: dist, PACKAGE_INDEX_URL: 'http://127.0.0.1:9/simple/', PACKAGE_CACHE_DIR: freshCache('idx-down') });
    try {
      const r = await install(offline, ['idx-pkg']);
      expect(r.error?.details?.reason).toBe('NETWORK_UNREACHABLE');
    } finally {
      await offline.close();
    }
  });

  it('a second start installs the same packages from the cache with the index gone', async () => {
    await index.close();
    const again = await startServer({ PYODIDE_DIST_DIR: dist, PACKAGE_INDEX_URL: index.url, PACKAGE_CACHE_DIR: cache, PREINSTALLED_PACKAGES: 'idx-pkg>=3' });
    try {
      expect((await again.run('import idx_pkg\nidx_pkg.VERSION')).result).toBe("'3.1'");
    } finally {
      await again.close();
    }
  });
});
