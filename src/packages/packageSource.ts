import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cachePaths } from '../cacheDir.js';
import type { Config } from '../config.js';
import type { Logger } from '../logging.js';
import type { PackageSource } from '../runtime/pyodide.js';

/**
 * Where Pyodide's distribution packages (micropip, numpy, …) come from: a local directory
 * (PYODIDE_DIST_DIR, offline), a mirror URL (PYODIDE_DIST_URL), or by default the Pyodide CDN
 * with the lockfile of the pyodide npm package. A mirror's lockfile is kept in the cache, so that a
 * later start works with the mirror unreachable, from what the cache holds.
 */
export async function resolvePackageSource(config: Config, logger: Logger): Promise<PackageSource> {
  const cacheDir = cachePaths(config).pyodide;
  if (config.pyodideDistDir) return { distDir: config.pyodideDistDir, cacheDir };
  if (!config.pyodideDistUrl) return { cacheDir };
  const baseUrl = config.pyodideDistUrl.endsWith('/') ? config.pyodideDistUrl : `${config.pyodideDistUrl}/`;
  const lockFile = path.join(cacheDir, `lock-${createHash('sha256').update(baseUrl).digest('hex').slice(0, 16)}.json`);
  try {
    const response = await fetch(`${baseUrl}pyodide-lock.json`, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    JSON.parse(text);
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(`${lockFile}.tmp`, text);
    fs.renameSync(`${lockFile}.tmp`, lockFile);
  } catch (error) {
    const cached = fs.existsSync(lockFile);
    logger.info(
      { url: baseUrl, error: String((error as Error).cause ?? error), usingCachedLockfile: cached },
      cached ? 'Pyodide mirror unreachable; using its cached lockfile' : 'Pyodide mirror unreachable',
    );
    if (!cached) return { cacheDir, baseUrl };
  }
  return { cacheDir, baseUrl, lockFile };
}
