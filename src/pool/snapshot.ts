import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging.js';
import type { PackageSource } from '../runtime/pyodide.js';
import { WARM_IMPORTS } from '../runtime/warmImports.js';
import { runtimeInfo } from '../versions.js';

/**
 * The start-up memory snapshot every worker is restored from: about 0.5 s per worker instead of
 * 2.5 s for a plain load. Made once in a throw-away worker and kept in the cache directory, keyed
 * by everything that shapes it, so later starts only read it.
 */

/** CPython behaviour the WebAssembly build lacks (asyncio.run, pwd, hashlib.scrypt…), set up at each worker's start. */
const COMPAT_MODULES = ['compat_system', 'compat_hashlib', 'compat_asyncio'];

const pythonFile = (name: string) => fileURLToPath(new URL(`../runtime/python/${name}`, import.meta.url));

/**
 * The harness's Python source, as shipped next to the compiled code: harness.py, with the
 * runner's, the shims' and the compatibility modules' sources (each run in a namespace of its
 * own) as constants, compiled and the API's loaders scrubbed as it is imported (at snapshot time).
 */
export function readHarnessSource(): string {
  const read = (name: string) => fs.readFileSync(pythonFile(name), 'utf8');
  const compat = Object.fromEntries(COMPAT_MODULES.map((name) => [name, read(`${name}.py`)]));
  return `${read('harness.py')}\n_RUNNER = ${JSON.stringify(read('runner.py'))}\n_SHIMS = ${JSON.stringify(read('shims.py'))}\n_COMPAT = ${JSON.stringify(compat)}\n_CODE = _compile_parts()\n_scrub_api_references()\n`;
}

export type SnapshotOptions = {
  packages: Promise<PackageSource>;
  /** Modules to import besides WARM_IMPORTS (the WARM_IMPORTS setting). */
  extraImports: readonly string[];
  snapshotDir: string;
  logger: Logger;
};

/**
 * The start-up snapshot in a SharedArrayBuffer: every worker reads the same bytes, none copies
 * them. A cached one is handed out while it is still being read (37 MB take ~0.1 s, most of it
 * page faults): a worker starts its thread and loads Pyodide meanwhile, and waits on `ready`
 * only before the memory is restored.
 */
export type Snapshot = {
  bytes: Uint8Array;
  /** [0]: 0 while the bytes are being read, 1 once they all are, 2 if reading failed. */
  ready: Int32Array;
  /** Resolves once `bytes` holds the whole snapshot (rejects if it never will). */
  filled: Promise<Uint8Array>;
};

const SNAPSHOT_READING = 0;
const SNAPSHOT_READY = 1;
const SNAPSHOT_FAILED = 2;

export async function loadOrMakeSnapshot(options: SnapshotOptions): Promise<Snapshot> {
  const { logger } = options;
  const packages = await options.packages;
  const harnessSource = readHarnessSource();
  const { pyodideVersion } = runtimeInfo();
  const key = createHash('sha256')
    .update(JSON.stringify({ pyodideVersion, WARM_IMPORTS, extra: options.extraImports, source: { ...packages, cacheDir: null }, harnessSource, v: 5 }))
    .digest('hex')
    .slice(0, 16);
  const file = path.join(options.snapshotDir, `pyodide-${pyodideVersion}-${key}.bin`);
  const started = performance.now();
  try {
    const snapshot = readSharedLater(file);
    void snapshot.filled.then(
      () => logger.debug({ file, ms: Math.round(performance.now() - started) }, 'snapshot read from cache'),
      (error: unknown) => logger.error({ file, error: String(error) }, 'snapshot cache unreadable'),
    );
    return snapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.info({ file, error: String(error) }, 'snapshot cache unreadable; making a new snapshot');
    }
  }
  const { bytes, failed } = await makeInWorker(packages, harnessSource, options.extraImports);
  logger.info({ ms: Math.round(performance.now() - started), bytes: bytes.length }, 'snapshot made');
  if (failed.length > 0) logger.warn({ modules: failed }, 'WARM_IMPORTS: these modules could not be imported and are not warm');
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file); // atomic: a concurrent start never reads half a snapshot
    pruneSnapshots(path.dirname(file), 3);
  } catch (error) {
    logger.info({ file, error: String(error) }, 'snapshot not cached (cache directory not writable)');
  }
  const shared = toShared(bytes);
  return { bytes: shared, ready: readyFlag(SNAPSHOT_READY), filled: Promise.resolve(shared) };
}

function readyFlag(state: number): Int32Array {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  flag[0] = state;
  return flag;
}

/** Each Pyodide or harness change makes a new ~36 MB snapshot: keep only the newest few. */
function pruneSnapshots(dir: string, keep: number): void {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^pyodide-.*\.bin$/.test(f))
    .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of files.slice(keep)) fs.rmSync(path.join(dir, f), { force: true });
}

/**
 * Read a file straight into shared memory (a copy would show in the cold start): its header (the
 * offset of the memory image, which sizes a worker's memory) at once, the rest on libuv's threads.
 */
function readSharedLater(file: string): Snapshot {
  const fd = fs.openSync(file, 'r');
  let size: number;
  let bytes: Uint8Array;
  let memoryAt: number;
  try {
    size = fs.fstatSync(fd).size;
    bytes = new Uint8Array(new SharedArrayBuffer(size));
    readRange(fd, bytes, 0, Math.min(size, 16));
    memoryAt = new Uint32Array(bytes.buffer, 0, 4)[1] ?? 0;
    if (size < 16 || memoryAt > size) throw new Error(`${file} is not a snapshot (${size} bytes)`);
    readRange(fd, bytes, 16, memoryAt);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  const ready = readyFlag(SNAPSHOT_READING);
  const settle = (state: number) => {
    Atomics.store(ready, 0, state);
    Atomics.notify(ready, 0);
    fs.close(fd, () => {});
  };
  const filled = (async () => {
    const CHUNK = 8 * 1024 * 1024;
    for (let at = memoryAt; at < size; ) {
      const n = await new Promise<number>((resolve, reject) =>
        fs.read(fd, bytes, at, Math.min(CHUNK, size - at), at, (error, read) => (error ? reject(error) : resolve(read))),
      );
      if (n === 0) throw new Error(`${file} ended after ${at} of ${size} bytes`);
      at += n;
    }
    return bytes;
  })().then(
    (done) => {
      settle(SNAPSHOT_READY);
      return done;
    },
    (error: unknown) => {
      settle(SNAPSHOT_FAILED);
      throw error;
    },
  );
  return { bytes, ready, filled };
}

function readRange(fd: number, into: Uint8Array, from: number, to: number): void {
  for (let at = from; at < to; ) {
    const n = fs.readSync(fd, into, at, to - at, at);
    if (n === 0) throw new Error(`the snapshot ended after ${at} bytes`);
    at += n;
  }
}

function toShared(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}

function makeInWorker(packages: PackageSource, harnessSource: string, extraImports: readonly string[]): Promise<{ bytes: Uint8Array; failed: string[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./snapshotWorker.js', import.meta.url), {
      env: {},
      workerData: { packages, harnessSource, extraImports },
      stdout: true, // anything printed while loading is dropped, never copied to the MCP channel
    });
    worker.stdout.resume();
    worker.once('message', (message: { ok: boolean; bytes?: Uint8Array; failed?: string[]; error?: string }) => {
      void worker.terminate();
      if (message.ok && message.bytes) resolve({ bytes: message.bytes, failed: message.failed ?? [] });
      else reject(new Error(`could not make the Pyodide snapshot: ${message.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`snapshot worker exited with code ${code}`)));
  });
}
