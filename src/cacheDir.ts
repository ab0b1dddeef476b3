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
