import type { PackageManager } from '../packages/packageManager.js';
import type { ExecutorPool, PoolStats } from '../pool/executorPool.js';

/**
 * What the tool handlers need of the side that runs Python. The same shapes are met by the pool in
 * this process and by the front's handle on the executor process, so a handler does not know (or
 * care) where the pool lives.
 */

/** Pool figures, plus the executor process's deaths by cause (signal or exit code). */
export type ExecutorStats = PoolStats & { executorCrashes: number; executorCrashesByCause: Record<string, number> };

export type PoolApi = Pick<ExecutorPool, 'run'> & { stats(): ExecutorStats };

export type PackagesApi = Pick<PackageManager, 'install' | 'installed' | 'problems'>;
