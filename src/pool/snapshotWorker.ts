import { parentPort, workerData } from 'node:worker_threads';
import { makeSnapshot, type PackageSource } from '../runtime/pyodide.js';

/**
 * Makes the start-up memory snapshot in a throw-away worker, so the main thread never loads
 * Pyodide and the snapshot comes from an interpreter no code has touched.
 */
const { packages, harnessSource } = workerData as { packages: PackageSource; harnessSource: string };
makeSnapshot(packages, harnessSource).then(
  (bytes) => parentPort?.postMessage({ ok: true, bytes }, [bytes.buffer as ArrayBuffer]),
  (error: unknown) => parentPort?.postMessage({ ok: false, error: String((error as Error)?.stack ?? error) }),
);
