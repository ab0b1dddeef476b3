import { withoutHeapViews } from './heapViews.js';

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
export function freezeIntrinsics(): void {
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
export function hideConstructors(): void {
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
 * Pyodide's own objects (PyProxy classes) are JavaScript too: a run that changes their
 * prototypes would change how the worker handles the next run's values. Freeze the ones that
 * exist; the worker calls PyProxy methods through references taken before any run (see execute).
 */
export function freezePyProxyPrototypes(samples: readonly object[]): void {
  for (const sample of samples) {
    let proto = Object.getPrototypeOf(sample) as object | null;
    while (proto && proto !== Object.prototype) {
      withoutHeapViews(proto);
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
