import { parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads';
import { routeConsoleToParent } from '../runtime/console.js';
import { createExecutor, type Executor } from '../runtime/execute.js';
import { createFsGuard, type EmscriptenFs } from '../runtime/fsGuard.js';
import { createPackageLoader } from '../runtime/packages.js';
import { installMemoryCap } from '../runtime/memoryCap.js';
import { loadRuntime, snapshotMemory } from '../runtime/pyodide.js';
import { mountZoneinfo } from '../runtime/zoneinfo.js';
import { createCallbackGate, hardenRealm, meterBufferConversions } from '../runtime/sandbox.js';
import type { ExecuteTask, ExecutionOutcome, WorkerData, WorkerTask } from './messages.js';
import { CONTROL, MOUNT_POINT, NO_OUTPUT, OUTPUT_FLUSH_MS, RESET_WAIT_MS, WORKDIR, type OutputMessage } from './messages.js';

/**
 * Piscina's entry: loads one warm, hardened Pyodide and serves tasks with it. It never writes to
 * stdout (the worker's stdout is piped to the MCP channel) and never logs: it returns facts in
 * each outcome and the main thread logs them.
 *
 * No top-level await: Piscina loads this file with require(), which cannot load an ES module that
 * awaits at top level, and its fallback (`new Function('return import(x)')`) is refused under
 * --disallow-code-generation-from-strings. So the default export is a promise of the handler.
 */

const MIB = 1024 * 1024;

async function start(): Promise<(task: WorkerTask) => Promise<ExecutionOutcome | null>> {
  const data = workerData as WorkerData;
  const realProcess = process;
  routeConsoleToParent();
  watchForFatalErrors(realProcess);

  const cap = installMemoryCap(Number.MAX_SAFE_INTEGER);
  const later = globalThis.setImmediate; // ours, not subject to the timer gate
  const gate = createCallbackGate();
  const realFetch = globalThis.fetch;
  const py = await loadRuntime({ packages: data.packages, wasm: data.wasm, snapshot: data.snapshot, snapshotReady: data.snapshotReady });
  const FS = py.FS as unknown as EmscriptenFs;
  const scratchRoots = [WORKDIR, '/tmp'];
  const writableRoots = [...scratchRoots];
  if (data.mount) {
    FS.mkdirTree(MOUNT_POINT);
    py.mountNodeFS(MOUNT_POINT, data.mount.hostDir);
    if (data.mount.mode === 'rw') writableRoots.push(MOUNT_POINT);
  }
  const zoneinfo = mountZoneinfo(py);
  const guard = createFsGuard(FS, { hostRoots: [...(data.mount ? [MOUNT_POINT] : []), ...(zoneinfo ? [zoneinfo] : [])] });
  const meter = meterBufferConversions(py); // before hardening, which freezes what it wraps
  hardenRealm(py, { network: data.network, fetch: realFetch });
  // After hardening, so the harness takes the hardened interpreter as its clean state.
  const executor: Executor = createExecutor(py, data.harnessSource, cap, guard, meter, gate, {
    maxMemoryBytes: data.maxMemoryMb * MIB,
    recycleGrowthBytes: data.recycleGrowthMb * MIB,
    workdir: WORKDIR,
    writableRoots,
    scratchRoots,
    baseMemory: snapshotMemory(data.snapshot),
    session: data.session,
  });

  await executor.warmUp();
  const loader = createPackageLoader(py);
  // Installed packages are loaded before a task's code starts (not counted in its time limit),
  // outside the memory cap, and become part of the reset point: loaded once, never per run.
  const syncPackages = async (task: WorkerTask) => {
    cap.setLimit(Number.MAX_SAFE_INTEGER);
    const loaded = await loader.sync(task.packages);
    if (loaded.length > 0) executor.rebase(loaded);
  };
  let executions = 0;
  let retired: string | undefined;
  const retire = (reason: string) => {
    retired ??= reason;
    // Read by the pool's load balancer, so no further task is sent here before it terminates us.
    Atomics.store(data.retiring, threadId % data.retiring.length, threadId);
  };
  // The last run's reset: it starts once the main thread has taken the result (CONTROL.TAKEN),
  // and the next task waits for it. A reset that cannot be trusted (see reset.ts) retires the worker.
  let cleaning: Promise<void> = Promise.resolve();
  const cleanUpLater = (control: Int32Array) => {
    cleaning = new Promise<void>((resolve) => {
      const reset = () => {
        const reason = executor.cleanUp();
        if (reason) {
          retire(reason);
          parentPort?.postMessage({ type: 'worker-retire', threadId, reason });
        }
        resolve();
      };
      const taken = Atomics.waitAsync(control, CONTROL.TAKEN, 0, RESET_WAIT_MS);
      if (taken.async) void taken.value.then(reset);
      else later(reset);
    });
  };

  return async function handle(task: WorkerTask): Promise<ExecutionOutcome | null> {
    await cleaning;
    if (retired) return refusal(retired, executions);
    if (task.kind === 'reset') {
      const reason = executor.cleanUp();
      if (reason) retire(reason);
      return reason ? refusal(reason, executions) : null;
    }
    if (task.kind === 'ping') {
      await syncPackages(task).catch(() => retire('installed packages could not be loaded')); // a worker that cannot load them must go
      return null;
    }
    executions += 1;
    let outcome: Awaited<ReturnType<typeof execute>>;
    try {
      try {
        await syncPackages(task);
      } catch (error) {
        throw new Error(`installed packages could not be loaded: ${(error as Error).message}`);
      }
      outcome = await execute(executor, task);
    } catch (error) {
      // Never reject: a rejected task leaves Piscina sending more work to this broken worker.
      const message = String((error as Error)?.message ?? error).split('\n')[0];
      outcome = {
        ok: false,
        stdout: NO_OUTPUT,
        stderr: NO_OUTPUT,
        result: null,
        error: { code: 'INTERNAL_ERROR', message: `The Python interpreter failed: ${message}` },
        durationMs: 0,
        memory: { wasmMb: 0, grewMb: 0 },
        files: [],
        retire: `the interpreter failed: ${message}`,
      };
    }
    if (!outcome.retire && data.maxExecutions > 0 && executions >= data.maxExecutions) {
      outcome.retire = `served ${executions} executions`;
    }
    if (outcome.retire) {
      retire(outcome.retire);
      outcome.cleaning = false; // never used again: nothing to put back
    } else if (outcome.cleaning) {
      cleanUpLater(new Int32Array(task.control));
    }
    return { ...outcome, worker: { threadId, executions } };
  };
}

/** The answer to a task that reached a worker after it was retired: the pool sends it elsewhere. */
function refusal(reason: string, executions: number): ExecutionOutcome {
  return {
    ok: false,
    refused: reason,
    stdout: NO_OUTPUT,
    stderr: NO_OUTPUT,
    result: null,
    durationMs: 0,
    memory: { wasmMb: 0, grewMb: 0 },
    files: [],
    worker: { threadId, executions },
  };
}

async function execute(executor: Executor, task: ExecuteTask) {
  const stream = task.outputPort ? createOutputStream(task.outputPort) : undefined;
  try {
    return await executor.run({
      code: task.code,
      stdin: task.stdin,
      timeoutMs: task.timeoutMs,
      maxOutputBytes: task.maxOutputBytes,
      control: new Int32Array(task.control),
      onOutput: stream?.write,
      files: task.files,
      outputs: task.outputs,
    });
  } finally {
    stream?.close();
  }
}

/**
 * Batches live output for the pool. Python may be running synchronously, so no timer can fire:
 * each write decides whether the batch is old enough to send.
 */
function createOutputStream(port: MessagePort) {
  const batch: OutputMessage = { stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, final: false };
  let last = performance.now();
  const flush = (final: boolean) => {
    port.postMessage({ ...batch, final } satisfies OutputMessage);
    batch.stdout = '';
    batch.stderr = '';
    last = performance.now();
  };
  return {
    write(stream: 'stdout' | 'stderr', text: string, total: number) {
      batch[stream] += text;
      batch[stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes'] = total;
      if (performance.now() - last >= OUTPUT_FLUSH_MS || batch.stdout.length + batch.stderr.length > 65_536) flush(false);
    },
    close() {
      flush(true);
      port.close();
    },
  };
}

/**
 * asyncio re-raises KeyboardInterrupt/SystemExit from Pyodide's event loop as uncaught errors;
 * those are expected and already reported by the run. Anything else means the worker is broken:
 * tell the pool why (it logs it), then exit; Piscina fails the current task and the pool replaces
 * the worker.
 */
function watchForFatalErrors(realProcess: NodeJS.Process): void {
  const fatal = (error: unknown) => {
    const e = error as Error | undefined;
    if (e?.name === 'PythonError' && /KeyboardInterrupt|SystemExit|CancelledError/.test(e.message)) return;
    parentPort?.postMessage({ type: 'worker-fatal', threadId, error: describeThrown(error) });
    realProcess.exit(70);
  };
  realProcess.on('uncaughtException', fatal);
  realProcess.on('unhandledRejection', fatal);
}

// A worker that cannot start reports why and answers every task with a refusal naming it, rather
// than fail to load: Piscina never starts another worker once one has failed during bootstrap
// (queued calls would wait for ever), and the pool replaces this one when it refuses.
export default start().then(
  (handle) => {
    parentPort?.postMessage({ type: 'worker-up', threadId });
    return handle;
  },
  (error: unknown) => {
    const text = describeThrown(error);
    parentPort?.postMessage({ type: 'worker-fatal', threadId, error: `start-up failed: ${text}` });
    const reason = `the Python runtime could not start: ${text.split('\n')[0]}`;
    return async (): Promise<ExecutionOutcome> => ({ ...refusal(reason, 0), startFailed: true });
  },
);

/** Something thrown, as text for the log: not every thrown value is an Error (Emscripten's are not). */
function describeThrown(error: unknown): string {
  const e = error as { stack?: unknown; name?: unknown; errno?: unknown } | null | undefined;
  let text: string;
  if (typeof e?.stack === 'string') text = e.stack;
  else if (e && typeof e === 'object') text = `${String(e.name ?? e.constructor?.name ?? 'object')}${e.errno !== undefined ? ` (errno ${String(e.errno)})` : ''}`;
  else text = String(error);
  return text.slice(0, 4000);
}
