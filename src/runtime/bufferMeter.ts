import type { PyodideAPI } from 'pyodide';
import { reflectApply, wrapMethods, type Method } from './wrapMethods.js';

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
