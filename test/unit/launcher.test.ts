import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { guardPathsFromEnv, sandboxFlags } from '../../src/launcher.js';

const HOME = { HOME: '/home/tester' };

describe('guardPathsFromEnv (the relaunching process reads the paths without validating)', () => {
  it('agrees with the validated settings whenever those are valid', () => {
    for (const env of [
      {},
      { PACKAGE_CACHE_DIR: '/srv/cache' },
      { PACKAGE_CACHE_DIR: ' /srv/cache/ ', PYODIDE_DIST_DIR: '/opt/pyodide' },
      { MOUNT_HOST_DIR: '/data', MOUNT_MODE: 'RW' },
      { MOUNT_HOST_DIR: '/data', MOUNT_MODE: 'ro' },
      { XDG_CACHE_HOME: '/xdg', PACKAGE_CACHE_DIR: '' },
    ]) {
      const config = loadConfig({ ...HOME, ...env });
      const paths = guardPathsFromEnv({ ...HOME, ...env });
      expect(paths, JSON.stringify(env)).toEqual({
        packageCacheDir: config.packageCacheDir,
        pyodideDistDir: config.pyodideDistDir,
        mountHostDir: config.mountHostDir,
        mountMode: config.mountMode,
      });
    }
  });

  it('opens nothing for a value the server will refuse (a relative path)', () => {
    const paths = guardPathsFromEnv({ ...HOME, PACKAGE_CACHE_DIR: 'cache', MOUNT_HOST_DIR: '../data', PYODIDE_DIST_DIR: 'dist' });
    expect(paths.mountHostDir).toBeUndefined();
    expect(paths.pyodideDistDir).toBeUndefined();
    expect(paths.packageCacheDir).toBe('/home/tester/.cache/mcp-python-executor');
    expect(() => loadConfig({ ...HOME, PACKAGE_CACHE_DIR: 'cache' })).toThrow(/PACKAGE_CACHE_DIR must be an absolute path/);
  });

  it('writes only to the cache and a read-write mount', () => {
    const flags = sandboxFlags(guardPathsFromEnv({ ...HOME, PACKAGE_CACHE_DIR: '/srv/cache', MOUNT_HOST_DIR: '/data' }), '/app/build/index.js');
    expect(flags.filter((f) => f.startsWith('--allow-fs-write='))).toEqual(['--allow-fs-write=/srv/cache']);
    expect(flags).toContain('--allow-fs-read=/data');
    const rw = sandboxFlags(guardPathsFromEnv({ ...HOME, PACKAGE_CACHE_DIR: '/srv/cache', MOUNT_HOST_DIR: '/data', MOUNT_MODE: 'rw' }), '/app/build/index.js');
    expect(rw.filter((f) => f.startsWith('--allow-fs-write='))).toEqual(['--allow-fs-write=/srv/cache', '--allow-fs-write=/data']);
  });
});

describe('sandboxFlags for the two processes', () => {
  it('lets only the front start a process (the executor, which runs Python, cannot)', () => {
    const paths = guardPathsFromEnv({ ...HOME, PACKAGE_CACHE_DIR: '/srv/cache' });
    expect(sandboxFlags(paths, '/app/build/index.js', { childProcess: true })).toContain('--allow-child-process');
    expect(sandboxFlags(paths, '/app/build/executor/main.js')).not.toContain('--allow-child-process');
  });
});
