import fs from 'node:fs';
import os from 'node:os';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { WARM_IMPORTS } from './warmImports.js';

export type { PyodideAPI };

/** Where Pyodide finds its packages: its own distribution (a local directory, a mirror or the CDN) and a cache. */
export type PackageSource = {
  /** Directory holding a Pyodide distribution (pyodide-lock.json + wheels). */
  distDir?: string | undefined;
  /** Else: base URL of a distribution mirror, and a local copy of its lockfile. */
  baseUrl?: string | undefined;
  lockFile?: string | undefined;
  /** Pyodide's package cache: where it keeps distribution packages it downloaded. */
  cacheDir: string;
};

export type LoadOptions = {
  packages: PackageSource;
  /** Pyodide's WebAssembly, compiled elsewhere in this process: instantiated, not compiled again. */
  wasm?: WebAssembly.Module | undefined;
  /** Memory snapshot to start from (made by makeSnapshot with the same options). */
  snapshot?: Uint8Array | undefined;
  /**
   * Set while `snapshot` is still being read: [0] becomes 1 once it is whole (2: it never will
   * be). Pyodide loads and instantiates meanwhile; the memory is restored only after.
   */
  snapshotReady?: Int32Array | undefined;
  /** Set when loading an instance whose memory is about to be snapshotted. */
  forSnapshot?: boolean;
};

/**
 * Load Pyodide in this worker. Its default output goes nowhere (Pyodide's defaults write with
 * console.log, and a worker's console is the MCP channel); every run sets its own handlers.
 */
export async function loadRuntime(options: LoadOptions): Promise<PyodideAPI> {
  allowConstantsUnderPermissionModel();
  const { distDir, baseUrl, lockFile, cacheDir } = options.packages;
  const discard = () => {};
  const read = options.snapshotReady ? snapshotRead(options.snapshotReady) : undefined;
  const restore = instantiateWith(options.wasm, options.snapshot ? snapshotMemory(options.snapshot).length : 0, read);
  try {
    const loading = loadPyodide({
    jsglobals: Object.create(null) as object,
    // matplotlib's default in Pyodide draws on an HTML canvas through `js`: render with Agg.
    env: { HOME: '/home/pyodide', MPLBACKEND: 'Agg' },
    stdout: discard,
    stderr: discard,
    packageCacheDir: cacheDir,
    // Unset, Pyodide reads its npm package's lockfile and downloads from its CDN.
    ...(distDir ? { lockFileURL: `${distDir}/pyodide-lock.json`, packageBaseUrl: `${distDir}/` } : {}),
    ...(!distDir && baseUrl ? { packageBaseUrl: baseUrl } : {}),
    ...(!distDir && lockFile ? { lockFileURL: lockFile } : {}),
    ...(options.snapshot ? { _loadSnapshot: options.snapshot } : {}),
    ...(options.forSnapshot ? { _makeSnapshot: true } : {}),
    });
    // Pyodide swallows an error thrown while it instantiates (the load would never end): a
    // snapshot that cannot be read fails the load from here instead.
    return await (read ? Promise.race([loading, read.then((ok) => (ok ? loading : Promise.reject(new Error(SNAPSHOT_UNREADABLE))))]) : loading);
  } finally {
    restore();
  }
}

/**
 * Pyodide's call to WebAssembly.instantiate, taken over while it loads: it instantiates `compiled`
 * if given (Pyodide passes the binary's bytes, to be compiled again). And Pyodide restores a
 * snapshot into the memory the module was instantiated with (30 MiB, set in the binary), which a
 * snapshot with the warm imports outgrows ("offset is out of bounds"), so the instance's memory is
 * grown to `bytes` as soon as it exists, before Pyodide makes its views of it. Returns the
 * function that puts WebAssembly.instantiate back.
 */
function instantiateWith(compiled: WebAssembly.Module | undefined, bytes: number, snapshotRead?: Promise<boolean>): () => void {
  const wasm = WebAssembly as unknown as { instantiate: (...args: unknown[]) => Promise<unknown> };
  const original = wasm.instantiate;
  wasm.instantiate = async function instantiateGrown(this: unknown, ...args: unknown[]) {
    type Result = { instance?: { exports: Record<string, unknown> } };
    const result = (
      compiled && !(args[0] instanceof WebAssembly.Module)
        ? { instance: await Reflect.apply(original, this, [compiled, ...args.slice(1)]), module: compiled }
        : await Reflect.apply(original, this, args)
    ) as Result;
    // Pyodide restores the snapshot right after this returns: not before its bytes are all there
    // (if they never will be, loadRuntime fails the load and this never returns).
    if (snapshotRead && !(await snapshotRead)) await new Promise(() => {});
    const memory = result.instance?.exports.memory;
    if (memory instanceof WebAssembly.Memory && memory.buffer.byteLength < bytes) {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65_536));
    }
    return result;
  };
  return () => {
    wasm.instantiate = original;
  };
}

const SNAPSHOT_UNREADABLE = 'the start-up snapshot could not be read from the cache';

/** Whether the snapshot's bytes all arrived (true) or never will (false), once either is known. */
async function snapshotRead(ready: Int32Array): Promise<boolean> {
  if (Atomics.load(ready, 0) === 0) {
    const wait = Atomics.waitAsync(ready, 0, 0);
    if (wait.async) await wait.value;
  }
  return Atomics.load(ready, 0) === 1;
}

/**
 * The WebAssembly memory inside a snapshot made by makeMemorySnapshot: a header (magic, the
 * memory's offset, the JSON of Pyodide's JavaScript references, the build id), then the memory.
 */
export function snapshotMemory(snapshot: Uint8Array): Uint8Array {
  const header = new Uint32Array(snapshot.buffer, snapshot.byteOffset, 4);
  return snapshot.subarray(header[1] ?? 0);
}

/** Where the snapshot keeps the harness module until a worker takes it (see takeHarness). */
export const HARNESS_MODULE = '__mcp_harness__';

/**
 * Make the start-up snapshot: a clean interpreter with WARM_IMPORTS imported and the harness
 * already compiled and run (compiling it in a freshly restored interpreter takes ~0.5 s, since
 * the compiler's own code is still cold there).
 */
export async function makeSnapshot(
  packages: PackageSource,
  harnessSource: string,
  extraImports: readonly string[] = [],
): Promise<{ bytes: Uint8Array; failed: string[] }> {
  const py = await loadRuntime({ packages, forSnapshot: true });
  py.runPython(`import ${WARM_IMPORTS.join(', ')}`);
  // The user's own list: a module that is not there (or fails) is reported, not fatal.
  const failed = (py.runPython(
    `def _warm(names):
    import importlib
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:
            failed.append(name)
    return failed
_warm(${JSON.stringify(extraImports)})`,
  ) as { toJs(): string[]; destroy(): void });
  const failedNames = failed.toJs();
  failed.destroy();
  py.runPython('del _warm');
  const load = py.runPython(
    `def _load(source):
    import sys, types
    m = types.ModuleType(${JSON.stringify(HARNESS_MODULE)})
    m.__file__ = '<harness>'
    exec(compile(source, '<harness>', 'exec'), m.__dict__)
    sys.modules[m.__name__] = m
_load`,
  ) as ((source: string) => void) & { destroy(): void };
  load(harnessSource);
  load.destroy();
  py.runPython('del _load');
  return { bytes: py.makeMemorySnapshot(), failed: failedNames };
}

/**
 * Emscripten's NODEFS calls `process.binding('constants')` at start-up, which Node's permission
 * model refuses (ERR_ACCESS_DENIED). The constants are public elsewhere, so answer that one name.
 */
function allowConstantsUnderPermissionModel(): void {
  const proc = process as NodeJS.Process & { permission?: unknown; binding?: (name: string) => unknown };
  if (!proc.permission || typeof proc.binding !== 'function') return;
  const original = proc.binding.bind(proc);
  proc.binding = (name: string) =>
    name === 'constants' ? { fs: fs.constants, os: os.constants } : original(name);
}
