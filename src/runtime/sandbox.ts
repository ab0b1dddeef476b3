import type { PyodideAPI } from 'pyodide';

/**
 * What Python may reach of the JavaScript realm it runs in. Pyodide in Node is not a sandbox: the
 * `js` module is `globalThis` (process, env, require, fetch), `pyodide_js` can mount host
 * directories, and any JsProxy leads to the Function constructor. The process runs with
 * `--disallow-code-generation-from-strings` and Node's permission model (see launcher.ts); inside
 * each worker this module closes the object paths that remain. README's Security section lists
 * which layer stops which route; test/e2e/sandbox.test.ts tries each of them.
 */

export type NetworkPolicy = {
  /** Hostnames Python may fetch from; empty means any. */
  allowedHosts: readonly string[];
};

/**
 * Globals removed from a worker after Pyodide has loaded: each is a way to the host (modules,
 * process control, network, other threads). The web-standard rest (streams, Blob, URL, crypto,
 * timers) stays: Node's own fetch reads several of them at call time, and none reaches the host.
 * `process` is replaced by a stub rather than removed, since Emscripten and Piscina read it.
 */
const REMOVED_GLOBALS = [
  'require', 'module', 'exports', '__filename', '__dirname', 'fetch', 'WebSocket', 'WebSocketStream',
  'EventSource', 'XMLHttpRequest', 'BroadcastChannel', 'MessageChannel', 'MessagePort', 'Worker',
  'localStorage', 'sessionStorage', 'Storage', 'importScripts', 'postMessage', 'close',
];

/**
 * JavaScript memory Python can make outside both caps: `pyodide.ffi.to_js(bytes)` copies into a new
 * ArrayBuffer, which is neither WebAssembly memory nor counted by the JavaScript heap limit (V8
 * keeps ArrayBuffer contents outside its heap). Every such copy goes through one Pyodide function,
 * so it is metered there, per run; past the budget the conversion fails. Large strings are the
 * same: Pyodide makes a JavaScript string from Python text (str to JavaScript, `to_string()` of a
 * buffer) with a TextDecoder, and Node 24 keeps a decoded latin1 string over ~1 MB outside the
 * heap; every large decode counts against the same budget. Install before hardenRealm, which
 * freezes TextDecoder.
 */
export type BufferMeter = {
  /** Start a run with this many bytes of copies allowed. */
  reset(budgetBytes: number): void;
  readonly exceeded: boolean;
};

/** Decodes from this size on are metered; well under where Node makes strings external (~1 MB). */
const LARGE_STRING_BYTES = 64 * 1024;

export function meterBufferConversions(py: PyodideAPI): BufferMeter {
  const module = (py as unknown as { _module: Record<string, unknown> })._module;
  const convert = module._python2js_buffer_recursive as (...args: unknown[]) => unknown;
  let budget = Infinity;
  let used = 0;
  let exceeded = false;
  const size = (value: unknown, depth = 0): number => {
    if (ArrayBuffer.isView(value)) return value.byteLength;
    if (Array.isArray(value) && depth < 32) return value.reduce((n: number, v) => n + size(v, depth + 1), 0);
    return 0;
  };
  const charge = (bytes: number) => {
    used += bytes;
    if (used > budget) {
      exceeded = true;
      throw new RangeError(`memory limit: the code copied more than ${budget} bytes to JavaScript`);
    }
  };
  module._python2js_buffer_recursive = function metered(this: unknown, ...args: unknown[]) {
    const out = convert.apply(this, args);
    if (args[1] === 0) charge(size(out));
    return out;
  };
  // Copies of a buffer Python holds (slice, map, toReversed, with...) are new buffers too. Views
  // onto the WebAssembly heap are the runtime's own (output, conversions) and are not counted.
  const heap = () => (module.HEAPU8 as Uint8Array).buffer;
  const meterCopy = (original: Method) =>
    function meteredCopy(this: unknown, ...args: unknown[]) {
      const out = reflectApply(original, this, args) as { byteLength: number };
      if ((ArrayBuffer.isView(this) ? this.buffer : this) !== heap()) charge(out.byteLength);
      return out;
    };
  wrapMethods(Object.getPrototypeOf(Uint8Array.prototype) as object, ['slice', 'map', 'filter', 'toReversed', 'toSorted', 'with'], meterCopy);
  wrapMethods(ArrayBuffer.prototype, ['slice'], meterCopy);
  wrapMethods(SharedArrayBuffer.prototype, ['slice'], meterCopy);
  wrapMethods(TextDecoder.prototype, ['decode'], (original) =>
    function meteredDecode(this: unknown, ...args: unknown[]) {
      const bytes = (args[0] as { byteLength?: number } | undefined)?.byteLength ?? 0;
      if (bytes >= LARGE_STRING_BYTES) charge(bytes); // smaller strings live on the capped heap
      return reflectApply(original, this, args);
    },
  );
  return {
    reset(budgetBytes) {
      budget = budgetBytes;
      used = 0;
      exceeded = false;
    },
    get exceeded() {
      return exceeded;
    },
  };
}

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

export type HardenOptions = {
  network?: NetworkPolicy | undefined;
  /** The real `fetch`, captured before it is removed, for the network opt-in. */
  fetch?: typeof fetch | undefined;
};

/**
 * Close every route from Python to the host that does not need code generation: the `js` and
 * `pyodide_js` modules, Emscripten's host file system driver, and the worker's dangerous globals.
 * Call once, after Pyodide has loaded and the optional host mount is in place.
 */
export function hardenRealm(py: PyodideAPI, options: HardenOptions = {}): void {
  for (const name of ['js', 'pyodide_js']) {
    try {
      py.unregisterJsModule(name);
    } catch {
      /* not registered */
    }
  }
  // unregisterJsModule leaves already-imported modules (and submodules such as pyodide_js._api).
  py.runPython(
    "import sys\nfor _k in [k for k in sys.modules if k.split('.')[0] in ('js', 'pyodide_js')]:\n    del sys.modules[_k]\ndel _k, sys",
  );
  if (options.network && options.fetch) {
    py.registerJsModule('js', createNetworkModule(options.fetch, options.network));
  }

  const module = (py as unknown as { _module: Record<string, unknown> })._module;
  const FS = py.FS as unknown as { filesystems: Record<string, unknown>; ErrnoError: new (errno: number) => Error };
  delete FS.filesystems.NODEFS;
  delete module.NODEFS;
  // Emscripten's sockets are WebSockets to any host and port (through the `ws` package its module
  // scope holds): socket.create_connection, urllib and http.client would reach the network. No
  // opt-in covers raw sockets, so connecting and listening fail as an unreachable host.
  const sockets = (module.SOCKFS as { websocket_sock_ops?: Record<string, unknown> } | undefined)?.websocket_sock_ops;
  if (sockets) {
    const unreachable = () => {
      throw new FS.ErrnoError(23); // EHOSTUNREACH
    };
    for (const name of ['createPeer', 'connect', 'listen', 'accept']) {
      if (typeof sockets[name] === 'function') sockets[name] = unreachable;
    }
  }
  for (const name of ['mountNodeFS', 'mountNativeFS', 'useNodeSockFS', 'loadPackagesFromImports']) {
    try {
      Object.defineProperty(py, name, { value: undefined, configurable: true });
    } catch {
      /* best effort: Python cannot reach the API object itself once pyodide_js is gone */
    }
  }

  const g = globalThis as Record<string, unknown>;
  const realProcess = process;
  for (const name of REMOVED_GLOBALS) {
    try {
      delete g[name];
    } catch {
      /* non-configurable: left as is */
    }
  }
  // Piscina and Emscripten read a few fields of `process`; everything else (env, exit, kill,
  // binding, getBuiltinModule, dlopen) is gone from the global. Our own code keeps the real one.
  // No real streams here: the worker's stdout is piped to the MCP channel.
  const sink = Object.freeze({ write: () => true, writableLength: 0 });
  g.process = {
    env: Object.freeze({}),
    argv: Object.freeze([]),
    platform: realProcess.platform,
    versions: Object.freeze({ ...realProcess.versions }),
    version: realProcess.version,
    stdout: sink,
    stderr: sink,
    nextTick: realProcess.nextTick.bind(realProcess),
    hrtime: realProcess.hrtime,
    cwd: () => '/',
    // Emscripten's getuid syscall asks `process` (os.getuid() threw and cost the worker): an
    // unprivileged user, the same one Python's pwd module describes (compat_system.py).
    getuid: () => 1000,
    umask: () => 0o022,
    exitCode: undefined,
  };
  freezeIntrinsics();
}

/**
 * Freeze the shared prototypes so that code holding a JsProxy cannot change how later
 * executions in this worker behave (e.g. a setter on Object.prototype that reads their input).
 *
 * A plain freeze breaks ordinary code through JavaScript's "override mistake": once
 * Object.prototype.constructor is read-only, `obj.constructor = x` on any object throws, and
 * Pyodide does exactly that. So on the prototypes every object inherits from, each property
 * becomes an accessor whose setter defines the property on the object assigned to instead (the
 * taming Hardened JavaScript uses); the prototype itself stays unchanged.
 */
function freezeIntrinsics(): void {
  hideConstructors();
  boundArrayAllocations();
  const tamed: object[] = [
    Object.prototype, Function.prototype, Array.prototype, Promise.prototype, Error.prototype,
    ...[AggregateError, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map((e) => e.prototype),
    Object.getPrototypeOf([][Symbol.iterator]()), Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
  ];
  for (const proto of tamed) tameOverrides(proto);
  const roots: unknown[] = [
    Object, Function, Array, Number, Boolean, String, Symbol, Date, Promise, RegExp,
    AggregateError, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, JSON,
    Math, Reflect, ArrayBuffer, SharedArrayBuffer, DataView, Map, Set, WeakMap, WeakSet, BigInt,
    Atomics, WebAssembly, TextDecoder, TextEncoder, URL, URLSearchParams,
    Object.getPrototypeOf(Uint8Array), Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array,
    Int32Array, Float32Array, Float64Array, Uint8ClampedArray, BigUint64Array, BigInt64Array,
    Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}), ...tamed,
  ];
  const seen = new Set<unknown>([Error]);
  const freeze = (value: unknown, depth: number) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
    seen.add(value);
    Object.freeze(value);
    if (depth === 0) return;
    for (const key of Reflect.ownKeys(value)) {
      const desc = Object.getOwnPropertyDescriptor(value, key);
      if (desc && 'value' in desc) freeze(desc.value, depth - 1);
    }
    freeze(Object.getPrototypeOf(value), depth - 1);
  };
  for (const root of roots) {
    freeze(root, 2);
    if (typeof root === 'function' && 'prototype' in root) freeze((root as { prototype: unknown }).prototype, 2);
  }
  // Error itself cannot be frozen: Pyodide sets Error.stackTraceLimit whenever it builds a
  // PythonError. Everything else on it is locked, and nothing can be added (prepareStackTrace
  // would be called with every later error).
  for (const key of Reflect.ownKeys(Error)) {
    if (key === 'stackTraceLimit') continue;
    const desc = Object.getOwnPropertyDescriptor(Error, key);
    if (desc?.configurable) {
      Object.defineProperty(Error, key, { ...desc, configurable: false, ...('value' in desc ? { writable: false } : {}) });
    }
  }
  Object.preventExtensions(Error);
}

/**
 * A constructor reached from a value Python holds is a door: a buffer constructor allocates
 * unmetered memory (`to_js(b'x').buffer.constructor.new(2**31)`), Object's statics make one huge
 * array in one step (`Object.keys` of a 32 MiB buffer: a fatal V8 out-of-memory for the whole
 * process) and `Object('x')` a String object whose `repeat` builds strings of any size, and
 * Map.groupBy groups a buffer into arrays. So `constructor` on those prototypes becomes a plain
 * record of the name (which Pyodide reads to tell types apart); it cannot be called, and species
 * lookups (slice, then) fall back to the default constructor when it has no Symbol.species. The
 * `__proto__` accessor goes too: it led from any value to Object.prototype and so to Object.
 * Object.prototype and Function.prototype keep theirs writable, for the override-safe taming
 * below (`Foo.prototype.constructor = Foo` in a library must keep working).
 */
function hideConstructors(): void {
  const typedArray = Object.getPrototypeOf(Uint8Array) as { prototype: object };
  const sealed = [
    ArrayBuffer.prototype, SharedArrayBuffer.prototype, DataView.prototype, typedArray.prototype, Map.prototype,
    Set.prototype, WeakMap.prototype, WeakSet.prototype, String.prototype, Number.prototype, Boolean.prototype,
    Symbol.prototype, BigInt.prototype,
    ...[Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array,
      Uint8ClampedArray, BigUint64Array, BigInt64Array].map((c) => c.prototype),
  ];
  const tamed = [Object.prototype, Function.prototype];
  for (const proto of [...sealed, ...tamed]) {
    const name = (proto as { constructor: { name: string } }).constructor.name;
    // Node's web streams read constructor.prototype of a view; the prototype is reachable anyway.
    const record = Object.freeze(Object.assign(Object.create(null) as object, { name, prototype: proto }));
    const open = tamed.includes(proto);
    Object.defineProperty(proto, 'constructor', { value: record, writable: open, configurable: open, enumerable: false });
  }
  delete (Object.prototype as { __proto__?: unknown }).__proto__;
  for (const name of ['transfer', 'transferToFixedLength']) {
    if (name in ArrayBuffer.prototype) delete (ArrayBuffer.prototype as unknown as Record<string, unknown>)[name];
  }
}

/**
 * One JavaScript allocation far past the worker's heap limit is not stopped by it: V8 aborts the
 * whole process. Python reaches such allocations through the methods of values it holds: an array
 * made huge in one step (`a.length = 10**8; a.fill(0)`), a join or concat of many long parts, a
 * String object (`valueOf.call('x')` boxes one) repeated, a typed array sorted with a comparator,
 * an `apply` whose arguments are a huge array-like, the keys of a big typed array (Pyodide's
 * `object_keys()` and `dir()`). Each of these refuses sizes no Python code needs: 2^20 elements,
 * 2^24 characters, 2^16 arguments, and string patterns (compiled as RegExps) of 2^16 characters.
 */
const MAX_ARRAY_LENGTH = 1 << 20;
const MAX_STRING_LENGTH = 1 << 24;
const MAX_APPLY_ARGUMENTS = 1 << 16;
const MAX_PATTERN_LENGTH = 1 << 16;

type Check = (self: unknown, args: unknown[]) => string | undefined;

const tooLong = (self: unknown): string | undefined =>
  ((self as { length?: unknown } | null | undefined)?.length as number) > MAX_ARRAY_LENGTH
    ? `arrays of more than ${MAX_ARRAY_LENGTH} elements are not available here`
    : undefined;

/** A join's text, counted before it is made: strings by length, anything else at most 24. */
const joinTooLong: Check = (self, args) => {
  const long = tooLong(self);
  if (long) return long;
  const items = self as ArrayLike<unknown>;
  const separator = args[0] === undefined ? 1 : String(args[0]).length;
  let total = 0;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    // An object joins as its toString(), which may hand back a long string uncopied (an Error's
    // message): measured, not guessed.
    const text = typeof item === 'string' ? item.length : item === null || item === undefined ? 0 : typeof item === 'object' ? String(item).length : 24;
    total += text + separator;
    if (total > MAX_STRING_LENGTH) return `strings of more than ${MAX_STRING_LENGTH} characters are not available here`;
  }
  return undefined;
};

const textTooLong = (length: number) =>
  length > MAX_STRING_LENGTH ? `strings of more than ${MAX_STRING_LENGTH} characters are not available here` : undefined;
const lengthOf = (value: unknown) => (typeof value === 'string' ? value.length : (value as { length?: number } | null)?.length ?? 0);

function boundArrayAllocations(): void {
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, unknown>;
  // Sorting with a comparator and filtering copy the elements into work arrays first.
  guard(typedArray, ['sort', 'toSorted', 'filter'], tooLong);
  guard(typedArray, ['join', 'toString', 'toLocaleString'], joinTooLong);
  const array = Array.prototype as unknown as Record<string, unknown>;
  guard(array, ['fill', 'copyWithin', 'flat', 'flatMap', 'map', 'filter', 'slice', 'splice', 'toReversed', 'toSorted', 'toSpliced', 'with', 'reverse', 'sort'], tooLong);
  guard(array, ['join', 'toString', 'toLocaleString'], joinTooLong);
  guard(array, ['concat'], (self, args) => {
    const total = [self, ...args].reduce<number>((n, part) => n + (Array.isArray(part) || ArrayBuffer.isView(part) ? lengthOf(part) : 1), 0);
    return total > MAX_ARRAY_LENGTH ? `arrays of more than ${MAX_ARRAY_LENGTH} elements are not available here` : undefined;
  });
  const record = Object.freeze(Object.assign(Object.create(null) as object, { name: 'Array', prototype: Array.prototype }));
  Object.defineProperty(Array.prototype, 'constructor', { value: record, writable: false, configurable: false, enumerable: false });

  const string = String.prototype as unknown as Record<string, unknown>;
  const own = (self: unknown) => String(self).length;
  guard(string, ['repeat'], (self, [count]) => textTooLong(own(self) * Math.max(0, Number(count) || 0)));
  guard(string, ['padStart', 'padEnd'], (self, [max]) => textTooLong(Number(max) || 0));
  guard(string, ['concat'], (self, args) => textTooLong(args.reduce<number>((n, a) => n + String(a).length, own(self))));
  // A replacement may insert the text before or after each match ($` and $'): quadratic. An
  // object replacement is its text; a function's answers are counted as it gives them.
  wrapMethods(string, ['replace', 'replaceAll'], (original) =>
    function countedReplace(this: unknown, ...args: unknown[]) {
      const by = args[1];
      const replacement = typeof by === 'function' ? '' : String(by);
      const inserted = /\$[`']/.test(replacement) ? own(this) + replacement.length : replacement.length;
      const refused = textTooLong(own(this) * (inserted + 1));
      if (refused) throw new RangeError(refused);
      if (typeof by === 'function') {
        let total = own(this);
        args[1] = function counted(this: unknown, ...match: unknown[]) {
          const text = String(reflectApply(by as Method, this, match));
          total += text.length;
          const tooMuch = textTooLong(total);
          if (tooMuch) throw new RangeError(tooMuch);
          return text;
        };
      }
      return reflectApply(original, this, args);
    },
  );
  // A string pattern is compiled as a RegExp, whose compiler's memory no limit sees.
  guard(string, ['match', 'matchAll', 'search'], (_self, [pattern]) =>
    typeof pattern === 'string' && pattern.length > MAX_PATTERN_LENGTH ? `patterns of more than ${MAX_PATTERN_LENGTH} characters are not available here` : undefined,
  );
  guard(string, ['normalize', 'toUpperCase', 'toLowerCase', 'toLocaleUpperCase', 'toLocaleLowerCase', 'toWellFormed'], (self) => textTooLong(own(self) * 3));
  // The HTML methods quote their argument (each " becomes &quot;).
  const html = ['anchor', 'big', 'blink', 'bold', 'fixed', 'fontcolor', 'fontsize', 'italics', 'link', 'small', 'strike', 'sub', 'sup'];
  guard(string, html, (self, [attribute]) => textTooLong(own(self) + 6 * (attribute === undefined ? 0 : String(attribute).length) + 32));
  guard(string, ['split'], (self, [, limit]) =>
    limit !== undefined && Number(limit) >= 0 && Number(limit) <= MAX_ARRAY_LENGTH ? undefined : tooLong(String(self)),
  );
  // Digits of a BigInt: about its bit length over log2(radix).
  guard(BigInt.prototype, ['toString', 'toLocaleString'], (self, [radix]) => {
    const value = BigInt.prototype.valueOf.call(self as bigint);
    const bitsPerDigit = Math.log2(Math.min(36, Math.max(2, Number(radix) || 10)));
    const magnitude = value < 0n ? -value : value;
    return magnitude >> BigInt(Math.floor(MAX_STRING_LENGTH * bitsPerDigit)) > 0n ? textTooLong(Infinity) : undefined;
  });

  guard(Function.prototype as unknown as Record<string, unknown>, ['apply'], (_self, [, list]) =>
    lengthOf(list) > MAX_APPLY_ARGUMENTS ? `calls with more than ${MAX_APPLY_ARGUMENTS} arguments are not available here` : undefined,
  );

  // Listing the keys of a big (typed) array is one array of a string per element.
  // (A String object has a key per character.)
  const keyed = (target: unknown) =>
    Array.isArray(target) || ArrayBuffer.isView(target) || target instanceof String ? tooLong(target) : undefined;
  guard(Object as unknown as Record<string, unknown>, ['keys', 'values', 'entries', 'getOwnPropertyNames', 'getOwnPropertyDescriptors'], (_self, [target]) => keyed(target));
  guard(Reflect as unknown as Record<string, unknown>, ['ownKeys'], (_self, [target]) => keyed(target));
}

/** Replace each method with one that first asks `check`, and refuses with its reason. */
function guard(holder: object, names: readonly string[], check: Check): void {
  wrapMethods(holder, names, (original) =>
    function guarded(this: unknown, ...args: unknown[]) {
      const refused = check(this, args);
      if (refused) throw new RangeError(refused);
      return reflectApply(original, this, args);
    },
  );
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
const reflectApply = Reflect.apply; // Function.prototype.apply is guarded itself

/** Replace each named method (that exists) with `wrap(original)`, keeping its attributes. */
function wrapMethods(holder: object, names: readonly string[], wrap: (original: Method) => Method): void {
  for (const name of names) {
    const original = (holder as Record<string, unknown>)[name];
    if (typeof original !== 'function') continue;
    Object.defineProperty(holder, name, { ...Object.getOwnPropertyDescriptor(holder, name), value: wrap(original as Method) });
  }
}

/**
 * Pyodide's own objects (PyProxy classes) are JavaScript too: a run that changes their
 * prototypes would change how the worker handles the next run's values. Freeze the ones that
 * exist; the worker calls PyProxy methods through references taken before any run (see execute).
 */
export function freezePyProxyPrototypes(samples: readonly object[]): void {
  for (const sample of samples) {
    let proto = Object.getPrototypeOf(sample) as object | null;
    while (proto && proto !== Object.prototype) {
      tameOverrides(proto);
      Object.freeze(proto);
      proto = Object.getPrototypeOf(proto) as object | null;
    }
  }
}

function tameOverrides(proto: object): void {
  for (const key of Reflect.ownKeys(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, key);
    if (!desc || !('value' in desc) || !desc.configurable) continue;
    const value: unknown = desc.value;
    Object.defineProperty(proto, key, {
      get() {
        return value;
      },
      set(this: object, next: unknown) {
        if (this === proto) throw new TypeError(`Cannot assign to read only property '${String(key)}'`);
        Object.defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
      },
      enumerable: desc.enumerable ?? false,
      configurable: false,
    });
  }
}

/** The `js` module Python sees when network access is switched on: fetch and what pyfetch needs. */
function createNetworkModule(realFetch: typeof fetch, policy: NetworkPolicy): Record<string, unknown> {
  // Captured now: hardening removes these globals right after.
  const { Request, Headers, Response } = globalThis;
  const allowed = (url: URL) =>
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    (policy.allowedHosts.length === 0 ||
      policy.allowedHosts.some((h) => h === url.hostname.toLowerCase() || h === url.host.toLowerCase()));
  const guardedFetch = async (input: unknown, init?: RequestInit): Promise<Response> => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    const request = input instanceof Request ? input : undefined;
    for (let hop = 0; hop < 10; hop += 1) {
      if (!allowed(url)) {
        throw new TypeError(`network access to ${url.host} is not allowed (NETWORK_ALLOWED_HOSTS)`);
      }
      // Redirects are followed here, one hop at a time, so that each target is checked too.
      const response = await realFetch(hop === 0 && request ? request : url, { ...init, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      url = new URL(location, url);
    }
    throw new TypeError('too many redirects');
  };
  return { fetch: guardedFetch, AbortController, AbortSignal, Object, Request, Headers, Response };
}
