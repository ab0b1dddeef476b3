import { reflectApply, wrapMethods } from './wrapMethods.js';

/**
 * JavaScript callbacks a run sets fire only while that run lasts: timers (Python reaches them
 * through Pyodide's event loop and the scheduleCallback it leaves in pyodide.webloop), promise
 * reactions (awaiting a JavaScript promise, a fetch that is not awaited) and event listeners.
 * After the run the interpreter is reset, and such a callback would call into Python objects of
 * the old state (measured: a pending timer crashed the process); before it, it would run with no
 * time limit, no file guard, in the middle of someone else's execution. Pyodide looks these
 * functions up at call time, so wrapping them here covers every route. Install before Pyodide
 * loads and before hardenRealm, which freezes what this wraps.
 */
export type CallbackGate = {
  /** A run starts: callbacks set from now on belong to it. */
  open(): void;
  /** The run is over: its callbacks that have not fired do nothing when they do. */
  close(): void;
};

export function createCallbackGate(): CallbackGate {
  const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
  let current = 0;
  let next = 1;
  const gated = (callback: unknown, owner: number) => {
    if (owner === 0 || typeof callback !== 'function') return callback;
    const fn = callback as (...a: unknown[]) => unknown;
    return function gatedCallback(this: unknown, ...args: unknown[]) {
      return current === owner ? reflectApply(fn, this, args) : undefined;
    };
  };
  for (const name of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) {
    const original = g[name] as (...args: unknown[]) => unknown;
    g[name] = function gatedTimer(this: unknown, callback: unknown, ...rest: unknown[]) {
      return reflectApply(original, this, [gated(callback, current), ...rest]);
    };
  }
  // catch() and finally() call then(); `await` of a native promise does not look it up, so the
  // runtime's own awaits are not affected.
  wrapMethods(Promise.prototype, ['then'], (original) =>
    function gatedThen(this: unknown, ...args: unknown[]) {
      const owner = current;
      return reflectApply(original, this, owner === 0 ? args : args.map((a) => gated(a, owner)));
    },
  );
  if (typeof EventTarget !== 'undefined') {
    wrapMethods(EventTarget.prototype, ['addEventListener'], (original) =>
      function gatedListener(this: unknown, type: unknown, listener: unknown, ...rest: unknown[]) {
        return reflectApply(original, this, [type, gated(listener, current), ...rest]);
      },
    );
  }
  return {
    open() {
      current = next++;
    },
    close() {
      current = 0;
    },
  };
}
