import { parentPort, workerData } from 'node:worker_threads';
import { makeSnapshot, type PackageSource } from '../runtime/pyodide.js';

/**
 * Makes the start-up memory snapshot in a throw-away worker, so the main thread never loads
 * Pyodide and the snapshot comes from an interpreter no code has touched.
 */
const { packages, harnessSource, extraImports } = workerData as { packages: PackageSource; harnessSource: string; extraImports: string[] };
makeSnapshot(packages, harnessSource, extraImports).then(
  ({ bytes, failed }) => parentPort?.postMessage({ ok: true, bytes, failed }, [bytes.buffer as ArrayBuffer]),
  (error: unknown) => parentPort?.postMessage({ ok: false, error: String((error as Error)?.stack ?? error) }),
);
