import type { PyodideAPI } from 'pyodide';
import type { PyProxy } from 'pyodide/ffi';
import { HARNESS_MODULE } from './pyodide.js';

/**
 * The executor's handles on the Python side: the harness module (compile, begin, reseed) and the
 * runner namespace (everything that runs the user's code), both taken before any run, and the
 * PyProxy methods the executor calls, taken before any run could replace them on a prototype.
 */

/** The harness module (see harness.py): prepares runs; never runs the user's code. */
export type Harness = {
  /** Compile and begin a run: a Prepared (its namespace set), or a failure dict. */
  start(source: string, workdir: string, session: boolean, limit: number): PyProxy;
  finish(): void;
  reseed(): void;
  warm_imports(names: string[]): unknown;
};
/** The runner namespace (runner.py): everything that runs the user's code or its objects' code. */
export type Runner = {
  /** A run without await: the last expression's repr, undefined, or the exception raised. */
  run(prepared: PyProxy, limit: number): PyProxy | string | undefined;
  schedule(prepared: PyProxy, limit: number): PyProxy;
  cancel(task: PyProxy): void;
  /** Figures left open saved as PNG, then stdout and stderr flushed. */
  wrap_up(directory: string, limit: number): void;
  describe(exc: PyProxy, limit: number): PyProxy;
};

type Namespace = PyProxy & { get(k: string): unknown; set(k: string, v: unknown): void };

export type PyBridge = {
  harness: Harness;
  runner: Runner;
  /** Free proxies the executor made (after a fatal error there is nothing left to free). */
  release(...proxies: (PyProxy | undefined)[]): void;
  /** The interpreter died: from now on release() frees nothing (Pyodide would report it again). */
  markDead(): void;
  toJs(proxy: PyProxy): unknown;
  /** Samples of every PyProxy class met so far, for freezing their prototypes. */
  prototypes(): object[];
};

export function createPyBridge(py: PyodideAPI, harnessSource: string, sleep: (ms: number) => void): PyBridge {
  const harnessNs = takeHarness(py, harnessSource);
  const sample = harnessNs as PyProxy & { toJs(o: object): unknown };
  const destroy = sample.destroy;
  const toJsMethod = sample.toJs;
  const seen = new Set<object>();
  let dead = false;
  const note = (proxy: unknown) => {
    const proto = proxy ? (Object.getPrototypeOf(proxy) as object | null) : null;
    if (proto) seen.add(proto);
  };
  const pick = <T>(ns: Namespace, names: readonly string[]): T => Object.fromEntries(names.map((n) => [n, ns.get(n)])) as T;

  const init = harnessNs.get('init') as (sleep: (ms: number) => void) => Namespace;
  const runnerNs = init(sleep);
  const harness = pick<Harness>(harnessNs, ['start', 'finish', 'reseed', 'warm_imports']);
  const runner = pick<Runner>(runnerNs, ['run', 'schedule', 'cancel', 'wrap_up', 'describe']);
  for (const proxy of [harnessNs, runnerNs, init, ...Object.values(harness), ...Object.values(runner)]) note(proxy);

  return {
    harness,
    runner,
    release(...proxies) {
      for (const proxy of proxies) {
        if (!proxy) continue;
        note(proxy);
        if (dead) continue;
        try {
          destroy.call(proxy);
        } catch {
          /* interpreter already dead, or destroyed already */
        }
      }
    },
    markDead() {
      dead = true;
    },
    toJs(proxy) {
      note(proxy);
      return toJsMethod.call(proxy, { dict_converter: Object.fromEntries });
    },
    prototypes: () => [...seen].map((p) => Object.create(p) as object),
  };
}

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
