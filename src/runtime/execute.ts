import type { PyodideAPI } from 'pyodide';
import type { PyProxy } from 'pyodide/ffi';
import type { ErrorInfo } from '../errors.js';
import { CappedOutput } from './capture.js';
import { CONTROL, STOP_REASON, TASK_STATE } from './control.js';
import { directoryBytes, emptyDirectory, type EmscriptenFs, type FsGuard } from './fsGuard.js';
import { posix } from 'node:path';
import { collectOutputFiles, OUTPUT_DIR, writeInputFiles, type InputFile, type OutputFile, type OutputLimits } from './files.js';
import type { MemoryCap } from './memoryCap.js';
import { HARNESS_MODULE } from './pyodide.js';
import { freezePyProxyPrototypes, type BufferMeter, type TimerGate } from './sandbox.js';

/**
 * Runs one piece of code in this worker's warm interpreter and returns what happened as a value.
 * Python never sees this module: the harness prepares and cleans up, the runner runs the code.
 */

const MIB = 1024 * 1024;

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

export type StreamOutcome = { text: string; bytes: number; truncated: boolean };

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
  recycleGrowthBytes: number;
  workdir: string;
  writableRoots: readonly string[];
  /**
   * A session's interpreter: its namespace, imports and files stay from call to call, and it is
   * replaced only when it cannot go on (a fatal error), never to clean up after a run.
   */
  session?: boolean;
};

/** The harness module (see harness.py): clean state and checks; never runs the user's code. */
type Harness = {
  prepare(source: string, limit: number): PyProxy;
  begin(prepared: PyProxy, workdir: string, session: boolean): PyProxy;
  loop(): PyProxy;
  finish(): PyProxy | undefined;
  settle(): string | undefined;
  finish_session(): undefined;
  rebase(): void;
};
/** The runner namespace: everything that runs the user's code or its objects' code. */
type Runner = {
  run(code: PyProxy, ns: PyProxy): PyProxy | undefined;
  evaluate(code: PyProxy, ns: PyProxy, limit: number): PyProxy | string | undefined;
  schedule(prepared: PyProxy, ns: PyProxy, limit: number): PyProxy;
  cancel(task: PyProxy): void;
  flush(): void;
  cancel_pending(loop: PyProxy): number;
  pending_tasks(loop: PyProxy): number;
  bury(grave: PyProxy): void;
  save_figures(directory: string, limit: number): number;
  describe(exc: PyProxy, limit: number): PyProxy;
};
type Described = {
  ok: boolean;
  type?: string;
  message?: string;
  line?: number | null;
  traceback?: string;
  errno?: number | null;
};

export type Executor = {
  /** Run code; returns as soon as its result is known (see cleanUp). */
  run(request: RunRequest): Promise<RunOutcome>;
  /** Put the interpreter back after the last run; returns why the worker must go, if it must. */
  cleanUp(): Promise<string | undefined>;
  /** Exercise the executor once before the first real run (see warmUp in createExecutor). */
  warmUp(): Promise<void>;
  /** Accept the interpreter's current modules as clean (after a trusted install). */
  rebase(): void;
  readonly baselineBytes: number;
};

export function createExecutor(
  py: PyodideAPI,
  harnessSource: string,
  cap: MemoryCap,
  guard: FsGuard,
  meter: BufferMeter,
  gate: TimerGate,
  options: ExecutorOptions,
): Executor {
  const FS = py.FS as unknown as EmscriptenFs;
  const heap = () => (py as unknown as { _module: { HEAP8: Int8Array } })._module.HEAP8.length;
  let control: Int32Array | undefined;
  /** The control block of a run whose clean-up has not happened yet. */
  let pending: Int32Array | undefined;
  let dead = false;
  // Every PyProxy prototype the worker meets is frozen after the warm-up (see warmUp), and the two
  // PyProxy methods it calls are taken now, before any code could replace them on a prototype.
  const prototypes = new Set<object>();
  const seen = (proxy: PyProxy) => {
    const proto = Object.getPrototypeOf(proxy) as object | null;
    if (proto) prototypes.add(proto);
  };
  const release = (...proxies: (PyProxy | undefined)[]) => {
    for (const p of proxies) if (p) seen(p);
    if (!dead) freeProxies(proxies);
  };
  const toJs = (proxy: PyProxy) => {
    seen(proxy);
    return TO_JS.call(proxy, { dict_converter: Object.fromEntries });
  };

  // Atomics.wait on the control word: wakes early when the main thread signals a stop.
  const sleep = (ms: number) => {
    const c = control;
    if (c && Atomics.load(c, CONTROL.INTERRUPT) === 0) Atomics.wait(c, CONTROL.INTERRUPT, 0, Math.max(0, ms));
  };

  const harnessNs = takeHarness(py, harnessSource);
  capturePyProxyMethods(harnessNs);
  const h = Object.fromEntries(
    ['prepare', 'begin', 'loop', 'finish', 'settle', 'finish_session', 'rebase', 'init'].map((name) => [name, harnessNs.get(name)]),
  ) as unknown as Harness & { init(sleep: (ms: number) => void): PyProxy };
  const runnerNs = h.init(sleep) as PyProxy & { get(k: string): unknown };
  const t = Object.fromEntries(
    ['run', 'evaluate', 'schedule', 'cancel', 'flush', 'cancel_pending', 'pending_tasks', 'bury', 'save_figures', 'describe'].map((name) => [
      name,
      runnerNs.get(name),
    ]),
  ) as unknown as Runner;
  const cleanLoop = h.loop();
  FS.mkdirTree(options.workdir);
  // Start-up size of the heap, raised by trusted installs (rebase): the memory limit and the
  // recycling threshold count from here.
  let baselineBytes = heap();

  const describe = (exc: PyProxy, limit: number): Described => {
    const d = t.describe(exc, limit);
    try {
      return toJs(d) as Described;
    } finally {
      release(d, exc);
    }
  };

  async function runCode(request: RunRequest): Promise<{ described?: Described; result: string | null }> {
    const limit = request.maxOutputBytes;
    const prepared = h.prepare(request.code, limit) as PyProxy & {
      is_async?: boolean;
      body_async?: boolean;
      expr_async?: boolean;
      body?: PyProxy;
      expr?: PyProxy;
      type: string;
    };
    try {
      if (prepared.type === 'dict') {
        const d = toJs(prepared);
        return { described: d as Described, result: null };
      }
      const ns = h.begin(prepared, options.workdir, Boolean(options.session));
      try {
        const body = prepared.body as PyProxy;
        const expr = prepared.expr ?? undefined;
        try {
          if (prepared.is_async) return await runAsync(request, prepared, ns);
          const err = t.run(body, ns);
          if (err !== undefined) return { described: describe(err, limit), result: null };
          if (expr === undefined) return { result: null };
          const value = t.evaluate(expr, ns, limit);
          if (typeof value === 'string' || value === undefined) return { result: value ?? null };
          return { described: describe(value, limit), result: null };
        } catch (error) {
          if (isFatal(error)) dead = true; // the proxies below cannot be freed any more
          throw error;
        } finally {
          release(body, expr);
        }
      } finally {
        release(ns);
      }
    } finally {
      release(prepared);
    }
  }

  async function runAsync(
    request: RunRequest,
    prepared: PyProxy,
    ns: PyProxy,
  ): Promise<{ described?: Described; result: string | null }> {
    const limit = request.maxOutputBytes;
    const task = t.schedule(prepared, ns, limit);
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
      if (typeof value === 'string' || value === undefined) return { result: value ?? null };
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
    py.setStdout({ write: stdout.write, isatty: false });
    py.setStderr({ write: stderr.write, isatty: false });
    const lines = [...request.stdin];
    py.setStdin({ stdin: () => (lines.length > 0 ? (lines.shift() as string) : null), isatty: false });
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
    const fileQuota = options.session ? Math.max(0, options.maxMemoryBytes - directoryBytes(FS, [options.workdir, '/tmp'])) : options.maxMemoryBytes;
    guard.begin(options.writableRoots, fileQuota);
    let described: Described | undefined;
    let result: string | null = null;
    let thrown: unknown;
    try {
      ({ described, result } = await runCode(request));
      // Still inside the time limit: rendering a figure is the code's work too.
      t.save_figures(posix.join(options.workdir, OUTPUT_DIR), request.outputs.maxFiles);
    } catch (error) {
      thrown ??= error;
    }
    const durationMs = performance.now() - started;
    if (thrown !== undefined && isFatal(thrown)) {
      // The interpreter is gone (a trap, os._exit): nothing can be cleaned up, only reported.
      guard.end();
      gate.close();
      control = undefined;
      Atomics.store(request.control, CONTROL.STATE, TASK_STATE.DONE);
      const classified = classifyThrown(thrown, cap.denied > 0);
      return {
        ok: false,
        stdout: { text: stdout.text(), bytes: stdout.totalBytes, truncated: stdout.truncated },
        stderr: { text: stderr.text(), bytes: stderr.totalBytes, truncated: stderr.truncated },
        result: null,
        error: classified.error,
        durationMs,
        memory: { wasmMb: round(heap() / MIB), grewMb: round((heap() - startBytes) / MIB) },
        files: [],
        retire: classified.fatal,
      };
    }

    try {
      t.flush();
    } catch {
      /* a replaced or closed stream */
    }
    let retire: string | undefined;
    let files: OutputFile[] = [];
    try {
      files = collectOutputFiles(FS, options.workdir, request.outputs);
    } catch {
      retire = 'the output directory could not be read';
    }
    const endBytes = heap();
    if (!options.session) {
      if (cap.denied > 0) retire ??= 'the memory limit was reached';
      if (endBytes - baselineBytes > options.recycleGrowthBytes) {
        retire ??= `memory grew to ${Math.round(endBytes / MIB)} MiB`;
      }
    }
    const reason = Atomics.load(request.control, CONTROL.REASON);
    const outcome: RunOutcome = {
      ok: false,
      stdout: { text: stdout.text(), bytes: stdout.totalBytes, truncated: stdout.truncated },
      stderr: { text: stderr.text(), bytes: stderr.totalBytes, truncated: stderr.truncated },
      result,
      durationMs,
      memory: { wasmMb: round(endBytes / MIB), grewMb: round((endBytes - startBytes) / MIB) },
      files,
      retire,
    };
    const classified = classify({
      described,
      thrown,
      reason,
      memoryDenied: cap.denied > 0 || meter.exceeded,
      quota: guard.quotaExceeded,
    });
    Object.assign(outcome, classified);
    if (classified.fatal) outcome.retire = classified.fatal;
    delete (outcome as { fatal?: unknown }).fatal;

    pending = request.control;
    if (options.session) {
      // A session's next call is the same user's: put back only what a session does, at once.
      const failed = await cleanUp();
      if (failed && !outcome.retire) outcome.retire = failed;
      return outcome;
    }
    // The result goes out now; the interpreter is put back before this worker takes another task
    // (see cleanUp). Until then the task is CLEANING, which the pool watches.
    Atomics.store(request.control, CONTROL.STATE, TASK_STATE.CLEANING);
    outcome.cleaning = !outcome.retire;
    return outcome;
  }

  /**
   * Put the interpreter back after the last run: returns why this worker must not run another,
   * if so. The clean-up stays inside the run's file guard and timers: finalizers of the run's
   * objects run during it (see harness.py), and are held to what the run was.
   */
  async function cleanUp(): Promise<string | undefined> {
    const runControl = pending;
    if (!runControl) return undefined;
    pending = undefined;
    let retire: string | undefined;
    try {
      // No further interrupts; anything printed from here on belongs to no result.
      py.setInterruptBuffer(undefined as unknown as Int32Array);
      py.setStdout({ write: (b: Uint8Array) => b.length });
      py.setStderr({ write: (b: Uint8Array) => b.length });
      if (t.cancel_pending(cleanLoop) > 0) {
        // Let cancelled tasks unwind now rather than in a later run.
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (t.pending_tasks(cleanLoop) > 0) retire = 'asyncio tasks kept running after being cancelled';
      }
      if (options.session) {
        h.finish_session();
      } else {
        const grave = h.finish();
        if (grave !== undefined) {
          try {
            t.bury(grave);
          } finally {
            release(grave);
          }
        }
        retire = h.settle() ?? retire;
      }
    } catch (error) {
      retire = `the interpreter could not be reset (${error instanceof Error ? error.message.split('\n').at(-2) ?? error.message : String(error)})`;
    } finally {
      guard.end();
      gate.close();
    }
    try {
      if (!options.session) {
        emptyDirectory(FS, options.workdir);
        emptyDirectory(FS, '/tmp');
      }
    } catch {
      retire ??= 'the working directory could not be emptied';
    }
    control = undefined;
    Atomics.store(runControl, CONTROL.STATE, TASK_STATE.DONE);
    Atomics.notify(runControl, CONTROL.STATE);
    return options.session ? undefined : retire;
  }

  /**
   * One run of each kind (sync, async, failing) before any real one, so that every PyProxy class
   * the worker uses exists; then their prototypes are frozen.
   */
  async function warmUp(): Promise<void> {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL.LENGTH * 4));
    for (const code of ['1', 'import asyncio\nawait asyncio.sleep(0)\n2', '1/0']) {
      Atomics.store(control, CONTROL.STATE, TASK_STATE.QUEUED);
      await run({ code, stdin: [], timeoutMs: 10_000, maxOutputBytes: 1024, control, outputs: { maxFiles: 0, maxBytes: 0 } });
      await cleanUp();
    }
    for (const proxy of [harnessNs, runnerNs, cleanLoop, ...Object.values(h), ...Object.values(t)]) seen(proxy as PyProxy);
    freezePyProxyPrototypes([...prototypes].map((p) => Object.create(p) as object));
  }

  return {
    run,
    cleanUp,
    warmUp,
    rebase: () => {
      h.rebase();
      baselineBytes = heap();
    },
    get baselineBytes() {
      return baselineBytes;
    },
  };

  function classify(input: {
    described: Described | undefined;
    thrown: unknown;
    reason: number;
    memoryDenied: boolean;
    quota: boolean;
  }): { ok: boolean; error?: ErrorInfo; cancelled?: boolean; fatal?: string } {
    const { described, thrown, reason } = input;
    const stopped = reason !== STOP_REASON.NONE;
    if (thrown === undefined && (!described || described.ok)) return { ok: true };
    const type = described?.type ?? '';
    if (stopped && (thrown !== undefined || type === 'KeyboardInterrupt' || type === 'CancelledError')) {
      if (reason === STOP_REASON.CANCELLED) return { ok: false, cancelled: true };
      return { ok: false, error: { code: 'EXECUTION_TIMEOUT', message: 'Execution timed out' } };
    }
    if (described) {
      if (meter.exceeded) {
        return { ok: false, error: memoryError('The code copied more data to JavaScript than the memory limit allows', described) };
      }
      if (type === 'MemoryError' || (input.memoryDenied && /Error$/.test(type))) {
        return { ok: false, error: memoryError('Python ran out of memory', described) };
      }
      if (input.quota && described.errno === 51) {
        return {
          ok: false,
          error: memoryError('Files written by the code exceeded the memory limit', described),
        };
      }
      const where = described.line ? ` (line ${described.line})` : '';
      return {
        ok: false,
        error: {
          code: 'PYTHON_ERROR',
          message: `${type}: ${described.message ?? ''}${where}`.trim(),
          details: {
            type,
            message: described.message ?? '',
            line: described.line ?? null,
            traceback: described.traceback ?? '',
          },
        },
      };
    }
    return classifyThrown(thrown, input.memoryDenied);
  }

  function memoryError(message: string, described: Described): ErrorInfo {
    return {
      code: 'MEMORY_LIMIT_EXCEEDED',
      message: `${message} (limit ${Math.round(options.maxMemoryBytes / MIB)} MiB)`,
      details: {
        limitMb: Math.round(options.maxMemoryBytes / MIB),
        type: described.type ?? 'MemoryError',
        traceback: described.traceback ?? '',
      },
    };
  }
}

/** Whether an error out of Pyodide means the interpreter cannot be used again. */
function isFatal(thrown: unknown): boolean {
  const e = thrown as { name?: string; message?: string; pyodide_fatal_error?: boolean } | undefined;
  if (e?.name === 'PythonError') return false; // a Python exception that reached JavaScript: survivable
  return true;
}

/** A JavaScript error out of Pyodide: the interpreter died (os._exit, stack overflow) or broke. */
function classifyThrown(thrown: unknown, memoryDenied: boolean): { ok: false; error: ErrorInfo; fatal: string } {
  const error = thrown as { name?: string; message?: string; status?: number; errno?: number };
  const message = String(error?.message ?? (error?.errno !== undefined ? `file system error ${error.errno}` : thrown));
  if (error?.name === 'ExitStatus' || /Program terminated with exit\((\d+)\)/.test(message)) {
    const status = error.status ?? Number(/exit\((\d+)\)/.exec(message)?.[1] ?? 0);
    return {
      ok: false,
      fatal: 'the code ended the interpreter',
      error: {
        code: 'PYTHON_ERROR',
        message: `The code ended the Python process with exit status ${status} (os._exit or similar)`,
        details: { type: 'SystemExit', exitStatus: status },
      },
    };
  }
  if (/Maximum call stack size exceeded|stack overflow/i.test(message)) {
    return {
      ok: false,
      fatal: 'stack overflow',
      error: {
        code: 'PYTHON_ERROR',
        message: 'RecursionError: the code recursed so deep that the interpreter stack overflowed',
        details: { type: 'RecursionError' },
      },
    };
  }
  if (memoryDenied || /out of memory|Cannot enlarge memory|memory limit/i.test(message)) {
    return {
      ok: false,
      fatal: 'out of memory',
      error: { code: 'MEMORY_LIMIT_EXCEEDED', message: 'Python ran out of memory and its interpreter stopped' },
    };
  }
  return {
    ok: false,
    fatal: `the interpreter failed: ${message.split('\n')[0]}`,
    error: { code: 'INTERNAL_ERROR', message: `The Python interpreter failed: ${message.split('\n')[0]}` },
  };
}

type Namespace = PyProxy & { get(k: string): unknown; set(k: string, v: unknown): void };

/**
 * The harness module's namespace: the snapshot has it compiled and run already, in sys.modules,
 * from where it is taken out before any user code could find it there. Without it (a snapshot
 * made otherwise), the source is run here.
 */
function takeHarness(py: PyodideAPI, source: string): Namespace {
  const ns = py.runPython(`import sys
_m = sys.modules.pop(${JSON.stringify(HARNESS_MODULE)}, None)
_m and _m.__dict__`) as Namespace | undefined;
  py.runPython('del _m, sys');
  if (ns) return ns;
  const fresh = py.runPython('dict()') as Namespace;
  fresh.set('__name__', HARNESS_MODULE);
  fresh.set('__file__', '<harness>');
  py.runPython(source, { globals: fresh, filename: '<harness>' });
  return fresh;
}

let DESTROY: (this: PyProxy) => void = function destroy(this: PyProxy) {
  this.destroy();
};
let TO_JS: (this: PyProxy, options: object) => unknown = function toJs(this: PyProxy, options: object) {
  return (this as PyProxy & { toJs(o: object): unknown }).toJs(options);
};

/** Take destroy() and toJs() from the PyProxy base, before any run could replace them. */
function capturePyProxyMethods(sample: PyProxy): void {
  const s = sample as PyProxy & { toJs(o: object): unknown };
  DESTROY = s.destroy;
  TO_JS = s.toJs;
}

/** The word of a task's control block that Pyodide polls for KeyboardInterrupt. */
function interruptWord(control: Int32Array): Int32Array {
  return new Int32Array(control.buffer, CONTROL.INTERRUPT * 4, 1);
}

function freeProxies(proxies: (PyProxy | undefined)[]): void {
  for (const proxy of proxies) {
    try {
      if (proxy) DESTROY.call(proxy);
    } catch {
      /* interpreter already dead */
    }
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
