import type { PyodideAPI } from 'pyodide';
import type { Method } from './wrapMethods.js';

/**
 * No view of the interpreter's own memory reaches Python. A PyProxy's `getBuffer()` hands out a
 * typed array over the WebAssembly heap itself: its `.buffer` is the whole heap (copies of which
 * were outside every count), and the view keeps working after `release()`, when the memory it
 * points at may belong to another object: a raw memory write from Python, what refusing `ctypes`
 * rules out. The runtime never calls it, so Python code gets a refusal instead; `to_js()` of a
 * buffer (a metered copy) and `JsBuffer.assign` remain the ways to move bytes across.
 */
function refusedGetBuffer(): never {
  throw new TypeError(
    'getBuffer() is not available here: it is a view of the interpreter memory; use pyodide.ffi.to_js(buffer) for a copy',
  );
}

/** Put the refusal in place of `getBuffer` on a PyProxy class prototype (a no-op elsewhere). */
export function withoutHeapViews(proto: object): void {
  const desc = Object.getOwnPropertyDescriptor(proto, 'getBuffer');
  if (!desc || desc.value === refusedGetBuffer || !desc.configurable) return;
  Object.defineProperty(proto, 'getBuffer', { ...desc, value: refusedGetBuffer });
}

/**
 * Pyodide makes a PyProxy class per set of capabilities, lazily, copying `getBuffer` onto the
 * prototype of every class for buffers. Every class is handed out by Module.getPyProxyClass (looked
 * up at each call), so each one is cleared there before its first proxy exists; classes made
 * before this call are cleared the next time they are asked for, and when they are frozen.
 */
export function refuseHeapViews(py: PyodideAPI): void {
  const module = (py as unknown as { _module: Record<string, unknown> })._module;
  const original = module.getPyProxyClass as Method;
  module.getPyProxyClass = function classWithoutHeapViews(this: unknown, ...args: unknown[]) {
    const cls = Reflect.apply(original, this, args) as { prototype: object };
    withoutHeapViews(cls.prototype);
    return cls;
  };
}
