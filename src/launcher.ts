import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_FALLBACK_VARIABLE, defaultCacheDir, usableCacheDir } from './cacheDir.js';
import { ZONEINFO_DIR } from './runtime/zoneinfo.js';

/**
 * Node's process-wide guards, which only a new process can switch on: the server re-executes
 * itself with them when started without. In-realm hardening (runtime/sandbox.ts) closes what Python
 * can reach by object; these close what it could reach by building code or touching the host:
 *
 * - `--disallow-code-generation-from-strings`: no eval/Function/`import()` from a string, the routes
 *   every JsProxy's `.constructor` and ctypes' emscripten_run_script lead to;
 * - the permission model: file reads only under the package and its dependencies (plus the cache,
 *   the Pyodide distribution, the host's time-zone database and the opt-in mount), writes only to
 *   the cache (and a read-write mount), no child processes (but for the front, which starts the
 *   executor and runs no Python), no native addons.
 */

// The flag's name by what this Node accepts, not its major version: 22.0–22.12 still call it
// --experimental-permission (renamed in 22.13), 20 only knows that name, 24 only --permission.
export const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
const CODEGEN_FLAG = '--disallow-code-generation-from-strings';

/** True when this process already runs with both guards. */
export function isSandboxedProcess(): boolean {
  const hasPermission = Boolean((process as { permission?: unknown }).permission);
  return hasPermission && process.execArgv.includes(CODEGEN_FLAG);
}

/** The host paths the guards open: the few settings that name directories. */
export type GuardPaths = {
  packageCacheDir: string;
  pyodideDistDir?: string;
  mountHostDir?: string;
  mountMode: 'ro' | 'rw';
};

/**
 * The guard paths read straight from the environment, without the settings' validation (and
 * without loading zod, a sizeable share of the start-up time): the relaunched server validates
 * every setting and exits with the message if one is wrong, so a value that would fail there (a
 * relative path, say) is simply left out here.
 */
export function guardPathsFromEnv(env: NodeJS.ProcessEnv): GuardPaths {
  const absolute = (name: string) => {
    const value = env[name]?.trim();
    return value && path.isAbsolute(value) ? path.resolve(value) : undefined;
  };
  return {
    packageCacheDir: absolute('PACKAGE_CACHE_DIR') ?? defaultCacheDir(env),
    pyodideDistDir: absolute('PYODIDE_DIST_DIR'),
    mountHostDir: absolute('MOUNT_HOST_DIR'),
    mountMode: env.MOUNT_MODE?.trim().toLowerCase() === 'rw' ? 'rw' : 'ro',
  };
}

/**
 * The node flags a process runs under, for these paths. Only the front gets `childProcess`: it
 * starts the executor process, and never runs Python; the executor, which does, cannot start one.
 */
export function sandboxFlags(config: GuardPaths, entry: string, options: { childProcess?: boolean } = {}): string[] {
  const require = createRequire(import.meta.url);
  const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const read = new Set<string>([packageRoot, path.dirname(entry)]);
  // Dependencies may sit beside the package (npx, workspaces) rather than inside it.
  for (const dep of ['pyodide', 'piscina', 'pino', 'pino-pretty', '@modelcontextprotocol/sdk', 'zod', 'ws']) {
    try {
      read.add(nodeModulesRoot(require.resolve(`${dep}/package.json`)));
    } catch {
      try {
        read.add(nodeModulesRoot(require.resolve(dep)));
      } catch {
        /* not installed: nothing to allow */
      }
    }
  }
  const write = new Set<string>([config.packageCacheDir]);
  read.add(config.packageCacheDir);
  if (config.pyodideDistDir) read.add(config.pyodideDistDir);
  if (fs.existsSync(ZONEINFO_DIR)) read.add(ZONEINFO_DIR); // mounted read-only for zoneinfo
  if (config.mountHostDir) {
    read.add(config.mountHostDir);
    if (config.mountMode === 'rw') write.add(config.mountHostDir);
  }
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  return [
    CODEGEN_FLAG,
    PERMISSION_FLAG,
    '--allow-worker',
    ...(options.childProcess ? ['--allow-child-process'] : []),
    ...[...read].map((p) => `--allow-fs-read=${real(p)}`),
    ...[...write].map((p) => `--allow-fs-write=${real(p)}`),
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
  ];
}

function nodeModulesRoot(file: string): string {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  return at === -1 ? path.dirname(file) : file.slice(0, at + marker.length - 1);
}

/**
 * Start this same entry again under the guards, with the same stdio, and never return: on Node
 * versions that have `process.execve` the process is replaced; elsewhere a child inherits the
 * stdio and this process relays signals and its exit code.
 */
export function relaunchSandboxed(config: GuardPaths, entry: string, args: string[]): void {
  // The server learns of a fallback cache (and logs the warning) through its environment.
  const cache = usableCacheDir(config.packageCacheDir);
  const env = cache.fallback
    ? { ...process.env, PACKAGE_CACHE_DIR: cache.dir, [CACHE_FALLBACK_VARIABLE]: JSON.stringify(cache.fallback) }
    : process.env;
  const argv = [...sandboxFlags({ ...config, packageCacheDir: cache.dir }, entry, { childProcess: true }), entry, ...args];
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve === 'function' && process.platform !== 'win32') {
    execve(process.execPath, [process.execPath, ...argv], env);
  }
  const child = spawn(process.execPath, argv, { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 1);
  });
}
