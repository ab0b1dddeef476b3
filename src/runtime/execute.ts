import { posix } from 'node:path';
import type { PyodideAPI } from 'pyodide';
import type { PyProxy } from 'pyodide/ffi';
import type { ErrorInfo } from '../errors.js';
import { CappedOutput } from './capture.js';
import { CONTROL, STOP_REASON, TASK_STATE } from './control.js';
import { collectOutputFiles, OUTPUT_DIR, writeInputFiles, type InputFile, type OutputFile, type OutputLimits } from './files.js';
import { directoryBytes, type EmscriptenFs, type FsGuard } from './fsGuard.js';
import type { MemoryCap } from './memoryCap.js';
import { classify, classifyThrown, isFatal, type Described } from './outcome.js';
import { capText } from './textCap.js';
import { createPyBridge, type Harness, type Runner } from './pyBridge.js';
import { createResetPoint } from './reset.js';
import { createStdio } from './stdio.js';
import { freezePyProxyPrototypes, type BufferMeter, type CallbackGate } from './sandbox.js';

/**
 * Runs one piece of code in this worker's warm interpreter and returns what happened as a value.
 * Outside a session, every run starts from the worker's reset point and the interpreter is put
 * back there after it (see reset.ts): isolation between calls is the memory rewrite, not a list
 * of what to undo.
 */

const MIB = 1024 * 1024;
/**
 * Times each kind of run is made before the reset point: twice, so that the image holds the
 * harness's bytecode already specialised. Measured: no warm call got faster with four, and each
 * further round costs a worker's start ~40 ms.
 */
const WARM_UP_ROUNDS = 2;

export type RunRequest = {
  code: string;
  stdin: readonly string[];
  timeoutMs: number;
  maxOutputBytes: number;
  control: Int32Array;
  /** Hears output as it is printed (text kept so far, byte totals), for live streaming. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string, totalBytes: number) => void;
  /** Written into the working directory before the code starts. */
  files?: readonly InputFile[];
  /** What ./output/ may return. */
  outputs: OutputLimits;
};

/** `cutAt`: where in `text` the bytes the worker did not keep were (the head before, the tail after). */
export type StreamOutcome = { text: string; bytes: number; truncated: boolean; cutAt?: number | undefined };

export type RunOutcome = {
  ok: boolean;
  stdout: StreamOutcome;
  stderr: StreamOutcome;
  result: string | null;
  error?: ErrorInfo | undefined;
  cancelled?: boolean | undefined;
  durationMs: number;
  memory: { wasmMb: number; grewMb: number };
  /** Files the code left in ./output/ (and figures it left open). */
  files: OutputFile[];
  /** Why this interpreter must not be used again, if it must not. */
  retire?: string | undefined;
  /** The interpreter still has to be put back (Executor.cleanUp) before it runs anything else. */
  cleaning?: boolean | undefined;
};

export type ExecutorOptions = {
  maxMemoryBytes: number;
  /** Replace the worker once its memory has grown past the reset point's by this much. */
  recycleGrowthBytes: number;
  workdir: string;
  /** Where runs may write: the run's own directories (see scratchRoots) and a read-write host mount. */
  writableRoots: readonly string[];
  /** The run's own directories, emptied by every reset: the working directory and /tmp. */
  scratchRoots: readonly string[];
  /** The memory the interpreter was restored from (see ResetOptions.base). */
  baseMemory: Uint8Array;
  /**
   * A session's interpreter: its namespace, imports and files stay from call to call; it is put
   * back to the reset point only when the session is reset.
   */
  session?: boolean;
};

export type Executor = {
  /** Run code; returns as soon as its result is known (see cleanUp). */
  run(request: RunRequest): Promise<RunOutcome>;
  /** Put the interpreter back to the reset point; returns why the worker must go, if it must. */
  cleanUp(): string | undefined;
  /** Exercise the executor once, then take the reset point (see warmUp in createExecutor). */
  warmUp(): Promise<void>;
  /** After a trusted install: import what was installed and take the reset point again there. */
  rebase(installed: readonly string[]): void;
  readonly baselineBytes: number;
};

export function createExecutor(
  py: PyodideAPI,
  harnessSource: string,
  cap: MemoryCap,
  guard: FsGuard,
  meter: BufferMeter,
  gate: CallbackGate,
  options: ExecutorOptions,
): Executor {
  const FS = py.FS as unknown as EmscriptenFs;
  const heap = () => (py as unknown as { _module: { HEAP8: Int8Array } })._module.HEAP8.length;
  let control: Int32Array | undefined;
  /** The control block of a run whose reset has not happened yet. */
  let pending: Int32Array | undefined;

  // Atomics.wait on the control word: wakes early when the main thread signals a stop.
  const sleep = (ms: number) => {
    const c = control;
    if (c && Atomics.load(c, CONTROL.INTERRUPT) === 0) Atomics.wait(c, CONTROL.INTERRUPT, 0, Math.max(0, ms));
  };
  const bridge = createPyBridge(py, harnessSource, sleep);
  const { harness: h, runner: t, release, toJs } = bridge;
  const resetPoint = createResetPoint(py, { scratchRoots: options.scratchRoots, workdir: options.workdir, base: options.baseMemory });
  const stdio = createStdio(py);
  // The reset point's memory size: the memory limit and the recycling threshold count from here.
  let baselineBytes = heap();
  /** Why the reset point no longer fits this interpreter (a session's install): reset by replacing it. */
  let stale: string | undefined;

  const describe = (exc: PyProxy, limit: number): Described => {
    const d = t.describe(exc, limit);
    try {
      return capDescribed(toJs(d) as Described, limit);
    } finally {
      release(d, exc);
    }
  };

  async function runCode(request: RunRequest): Promise<{ described?: Described; result: string | null }> {
    const limit = request.maxOutputBytes;
    // One call each way where it can: every crossing between JavaScript and Python costs ~20-30 µs.
    const prepared = h.start(request.code, options.workdir, Boolean(options.session), limit) as PyProxy & { is_async?: boolean; type: string };
    try {
      if (prepared.type === 'dict') return { described: capDescribed(toJs(prepared) as Described, limit), result: null };
      if (prepared.is_async) return await runAsync(request, prepared);
      let value: PyProxy | string | undefined;
      try {
        value = t.run(prepared, limit);
      } catch (error) {
        if (isFatal(error)) bridge.markDead(); // the proxies below cannot be freed any more
        throw error;
      }
      if (typeof value === 'string' || value === undefined) return { result: value === undefined ? null : capText(value, limit) };
      return { described: describe(value, limit), result: null };
    } finally {
      release(prepared);
    }
  }

  async function runAsync(request: RunRequest, prepared: PyProxy): Promise<{ described?: Described; result: string | null }> {
    const limit = request.maxOutputBytes;
    const task = t.schedule(prepared, limit);
    // While Python awaits, no bytecode runs to notice the interrupt buffer: cancel the task
    // when the main thread signals a stop.
    const c = request.control;
    let active = true;
    const stop = () => {
      if (!active) return;
      // The same stop raises the interrupt word, which would land in the event loop's own code
      // (inside cancel(), or in the callback that wakes the task) and lose the task's wake-up.
      // From here on the cancellation stops the run; code that swallows it gets the hard stop.
      py.setInterruptBuffer(undefined as unknown as Int32Array);
      try {
        t.cancel(task);
      } catch {
        /* the run ended meanwhile */
      }
    };
    const waiter = Atomics.waitAsync(c, CONTROL.REASON, STOP_REASON.NONE, request.timeoutMs + 60_000);
    if (waiter.async) void waiter.value.then(stop);
    else stop();
    try {
      const value = (await (task as unknown as Promise<unknown>)) as PyProxy | string | undefined;
      if (typeof value === 'string' || value === undefined) return { result: value === undefined ? null : capText(value, limit) };
      return { described: describe(value, limit), result: null };
    } finally {
      active = false;
      release(task);
    }
  }

  async function run(request: RunRequest): Promise<RunOutcome> {
    control = request.control;
    const listen = (stream: 'stdout' | 'stderr') =>
      request.onOutput ? (text: string, total: number) => request.onOutput?.(stream, text, total) : undefined;
    const stdout = new CappedOutput(request.maxOutputBytes, listen('stdout'));
    const stderr = new CappedOutput(request.maxOutputBytes, listen('stderr'));
    const streams = () => ({
      stdout: { text: stdout.text(), bytes: stdout.totalBytes, truncated: stdout.truncated, cutAt: stdout.cutAt() },
      stderr: { text: stderr.text(), bytes: stderr.totalBytes, truncated: stderr.truncated, cutAt: stderr.cutAt() },
    });
    // A session's descriptors 0–2 are put back before each of its runs; others', by the reset.
    if (options.session) stdio.refresh();
    stdio.attach({ stdout: stdout.write, stderr: stderr.write, stdin: request.stdin });
    py.setInterruptBuffer(interruptWord(request.control));
    const startBytes = heap();
    cap.setLimit(baselineBytes + options.maxMemoryBytes);
    cap.resetCounters();
    meter.reset(options.maxMemoryBytes);

    writeInputFiles(FS, guard, options.workdir, request.files ?? [], options.maxMemoryBytes);

    Atomics.store(request.control, CONTROL.STATE, TASK_STATE.RUNNING);
    Atomics.notify(request.control, CONTROL.STATE);
    gate.open();
    const started = performance.now();
    // A session's files stay from call to call: they count against the same memory limit.
    const fileQuota = options.session ? Math.max(0, options.maxMemoryBytes - directoryBytes(FS, options.scratchRoots)) : options.maxMemoryBytes;
    guard.begin(options.writableRoots, fileQuota);
    let described: Described | undefined;
    let result: string | null = null;
    let thrown: unknown;
    try {
      ({ described, result } = await runCode(request));
      // Still inside the time limit: rendering a figure is the code's work too.
      t.wrap_up(posix.join(options.workdir, OUTPUT_DIR), request.outputs.maxFiles);
    } catch (error) {
      thrown = error;
    }
    const durationMs = performance.now() - started;
    // From here on nothing of the run's may run: its callbacks are dropped, its guards lifted.
    gate.close();
    stdio.detach();
    meter.end();
    guard.end();
    control = undefined;
    const endBytes = heap();
    const memory = { wasmMb: round(endBytes / MIB), grewMb: round((endBytes - startBytes) / MIB) };
    if (thrown !== undefined && isFatal(thrown)) {
      // The interpreter is gone (a trap, os._exit): nothing can be put back, only reported.
      Atomics.store(request.control, CONTROL.STATE, TASK_STATE.DONE);
      const classified = classifyThrown(thrown, cap.denied > 0);
      return { ok: false, ...streams(), result: null, error: classified.error, durationMs, memory, files: [], retire: classified.fatal };
    }
    py.setInterruptBuffer(undefined as unknown as Int32Array);
    // Outside a session the reset puts the guards and linecache back, with everything else.
    if (options.session) {
      try {
        h.finish();
      } catch {
        /* the run broke linecache or the like: resetting the session puts it back */
      }
    }
    let retire: string | undefined;
    let files: OutputFile[] = [];
    try {
      files = collectOutputFiles(FS, options.workdir, request.outputs);
    } catch {
      retire = 'the output directory could not be read';
    }
    if (endBytes - baselineBytes > options.recycleGrowthBytes) retire ??= `memory grew to ${Math.round(endBytes / MIB)} MiB`;
    const classified = classify({
      described,
      thrown,
      reason: Atomics.load(request.control, CONTROL.REASON),
      memoryDenied: cap.denied > 0 || meter.exceeded,
      meterExceeded: meter.exceeded,
      quota: guard.quotaExceeded,
      maxMemoryBytes: options.maxMemoryBytes,
    });
    const { fatal, ...rest } = classified;
    const outcome: RunOutcome = { ...streams(), result, durationMs, memory, files, ...rest, retire: fatal ?? retire };
    if (options.session || outcome.retire) {
      Atomics.store(request.control, CONTROL.STATE, TASK_STATE.DONE);
      Atomics.notify(request.control, CONTROL.STATE);
      return outcome;
    }
    // The result goes out now; the interpreter is put back before this worker takes another task
    // (see cleanUp). Until then the task is CLEANING, which the pool watches.
    pending = request.control;
    Atomics.store(request.control, CONTROL.STATE, TASK_STATE.CLEANING);
    outcome.cleaning = true;
    return outcome;
  }

  /** Rewrite the interpreter from the reset point; returns why this worker must not run another, if so. */
  function cleanUp(): string | undefined {
    const runControl = pending;
    pending = undefined;
    let retire: string | undefined;
    if (stale) return stale;
    try {
      retire = resetPoint.restore();
      stdio.refresh();
      h.reseed(); // the image holds the generator state of the reset point
    } catch (error) {
      const e = error as { message?: string; errno?: number } | undefined;
      retire = `the interpreter could not be reset (${e?.errno !== undefined ? `file system error ${e.errno}` : String(e?.message ?? error).split('\n')[0]})`;
    }
    if (runControl) {
      Atomics.store(runControl, CONTROL.STATE, TASK_STATE.DONE);
      Atomics.notify(runControl, CONTROL.STATE);
    }
    return retire;
  }

  /**
   * One run of each kind (sync, async, failing) before any real one, so that every PyProxy class
   * and code path the worker uses exists; then their prototypes are frozen and the reset point
   * is taken, from an interpreter no caller's code has touched.
   */
  async function warmUp(): Promise<void> {
    const warm = new Int32Array(new SharedArrayBuffer(CONTROL.LENGTH * 4));
    const samples = ['1', "print('x')", 'import asyncio\nawait asyncio.sleep(0)\n2', '1/0'];
    for (const code of Array.from({ length: WARM_UP_ROUNDS }, () => samples).flat()) {
      Atomics.store(warm, CONTROL.STATE, TASK_STATE.QUEUED);
      await run({ code, stdin: [], timeoutMs: 10_000, maxOutputBytes: 1024, control: warm, outputs: { maxFiles: 0, maxBytes: 0 } });
      pending = undefined;
    }
    // The last warm-up run left the guards on (finish() is a session's, otherwise the reset's job):
    // the reset point is taken between runs, not in one.
    h.finish();
    freezePyProxyPrototypes(bridge.prototypes());
    resetPoint.take();
    h.reseed();
    baselineBytes = heap();
  }

  return {
    run,
    cleanUp,
    warmUp,
    rebase(installed) {
      // The streams are detached since the last run: what the imports print goes nowhere.
      const imported = h.warm_imports([...installed]) as PyProxy | undefined;
      release(imported);
      if (options.session) {
        // A session's interpreter holds the session's state: a reset point taken now would keep it.
        stale = 'packages were installed since the session started';
        return;
      }
      resetPoint.take();
      h.reseed();
      baselineBytes = heap();
    },
    get baselineBytes() {
      return baselineBytes;
    },
  };
}

/** The word of a task's control block that Pyodide polls for KeyboardInterrupt. */
function interruptWord(control: Int32Array): Int32Array {
  return new Int32Array(control.buffer, CONTROL.INTERRUPT * 4, 1);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

export type { Harness, Runner };

/** The runner's texts, capped where Python cannot change the limit (see textCap.ts). */
function capDescribed(d: Described, limit: number): Described {
  const cap = (text: string | undefined, max: number) => (typeof text === 'string' ? capText(text, max) : text);
  return { ...d, type: cap(d.type, 200), message: cap(d.message, Math.min(limit, 65536)), traceback: cap(d.traceback, limit) };
}
