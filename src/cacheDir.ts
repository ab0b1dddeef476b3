import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the package cache lives when PACKAGE_CACHE_DIR is unset: the platform's per-user cache. */
export function defaultCacheDir(env: NodeJS.ProcessEnv, platform = process.platform): string {
  const home = env.HOME || env.USERPROFILE || os.homedir();
  if (platform === 'win32') {
    return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'mcp-python-executor', 'Cache');
  }
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'mcp-python-executor');
  // The XDG spec: a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  return path.join(xdg ?? path.join(home, '.cache'), 'mcp-python-executor');
}

/** Why the cache is not where the settings say: the directory asked for and what failed there. */
export type CacheFallback = { wanted: string; reason: string };

/**
 * The cache directory to use: `dir` when it can be created and written to; otherwise one under the
 * system's temporary directory, so a service user with HOME=/nonexistent still starts (with a
 * warning) instead of dying on EACCES. The temporary one is per user and reused, so the start-up
 * snapshot survives restarts; one that another user owns or may write to is not trusted (a
 * planted snapshot would run as this user's code), and a fresh private directory is made instead.
 */
export function usableCacheDir(dir: string, tmp = os.tmpdir()): { dir: string; fallback?: CacheFallback } {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return { dir };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { dir: privateTempDir(tmp), fallback: { wanted: dir, reason } };
  }
}

function privateTempDir(tmp: string): string {
  const uid = process.getuid?.();
  const shared = path.join(tmp, `mcp-python-executor-${uid ?? os.userInfo().username}`);
  try {
    fs.mkdirSync(shared, { recursive: true, mode: 0o700 });
    const stat = fs.statSync(shared);
    if ((uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0) return shared;
  } catch {
    /* fall through to a fresh directory */
  }
  return fs.mkdtempSync(path.join(tmp, 'mcp-python-executor-'));
}

/** Set by the launcher for the server it starts when it had to fall back; not a user setting. */
export const CACHE_FALLBACK_VARIABLE = 'MCP_PYTHON_EXECUTOR_CACHE_FALLBACK';

/** What lives where in PACKAGE_CACHE_DIR. */
export function cachePaths(config: { packageCacheDir: string }) {
  const root = config.packageCacheDir;
  return {
    root,
    /** Pyodide's own package cache: distribution wheels downloaded from the CDN (micropip, numpy…). */
    pyodide: path.join(root, 'pyodide'),
    /** Wheels downloaded from the package index. */
    wheels: path.join(root, 'wheels'),
    /** Resolved installs, so a later start installs the same packages with no network. */
    locks: path.join(root, 'locks'),
    /** Start-up memory snapshots. */
    snapshots: path.join(root, 'snapshots'),
  };
}
