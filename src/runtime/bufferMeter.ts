import type { PyodideAPI } from 'pyodide';
import { reflectApply, wrapMethods, type Method } from './wrapMethods.js';

/**
 * JavaScript memory Python can make outside both caps: `pyodide.ffi.to_js(bytes)` copies into a new
 * ArrayBuffer, which is neither WebAssembly memory nor counted by the JavaScript heap limit (V8
 * keeps ArrayBuffer contents outside its heap). Every such copy is metered, per run; past the
 * budget the copy fails. Large strings are the same: Pyodide makes a JavaScript string from
 * Python text (str to JavaScript, `to_string()` of a buffer) with a TextDecoder, and Node 24 keeps
 * a decoded latin1 string over ~1 MB outside the heap; every large decode counts against the same
 * budget. Install before hardenRealm, which freezes TextDecoder.
 */
export type BufferMeter = {
  /** Start a run with this many bytes of copies allowed. */
  reset(budgetBytes: number): void;
  /** The run is over: copies the runtime makes now (the reset's image of the heap) are its own. */
  end(): void;
  readonly exceeded: boolean;
};

/** Decodes from this size on are metered; well under where Node makes strings external (~1 MB). */
const LARGE_STRING_BYTES = 64 * 1024;
/** What one copy costs besides its bytes (an ArrayBuffer and a view): empty copies are not free. */
const COPY_OVERHEAD_BYTES = 64;

export function meterBufferConversions(py: PyodideAPI): BufferMeter {
  const module = (py as unknown as { _module: Record<string, unknown> })._module;
  let budget = Infinity;
  let used = 0;
  let exceeded = false;
  /** Inside one of Pyodide's buffer copies, already counted: its own slice of the heap is not counted again. */
  let converting = 0;
  const charge = (bytes: number) => {
    if (converting > 0) return;
    used += bytes;
    if (used > budget) {
      exceeded = true;
      throw new RangeError(`memory limit: the code copied more than ${budget} bytes to JavaScript`);
    }
  };
  // A buffer conversion (to_js of bytes, a memoryview, an array) copies every contiguous run of
  // items through one of these two functions, whatever the buffer's shape: counted by bytes
  // before the copy is made. (Walking the nested arrays the conversion returns stopped at a depth;
  // a memoryview of 40 dimensions went past it.)
  const meterCopyOf = (name: string, bytesOf: (args: unknown[]) => number) => {
    const original = module[name] as Method;
    module[name] = function meteredConversion(this: unknown, ...args: unknown[]) {
      charge(bytesOf(args) + COPY_OVERHEAD_BYTES);
      converting += 1;
      try {
        return reflectApply(original, this, args);
      } finally {
        converting -= 1;
      }
    };
  };
  // (pointer, item size, count) and (pointer, stride, suboffset, count, item size)
  meterCopyOf('python2js_buffer_1d_contiguous', (a) => Number(a[1]) * Number(a[2]));
  meterCopyOf('python2js_buffer_1d_noncontiguous', (a) => Number(a[4]) * Number(a[3]));
  // Copies of a buffer Python holds (slice, map, toReversed, with...) are new buffers too, the
  // WebAssembly heap's included: a view of it is a buffer like any other.
  const meterCopy = (original: Method) =>
    function meteredCopy(this: unknown, ...args: unknown[]) {
      const out = reflectApply(original, this, args) as { byteLength: number };
      charge(out.byteLength);
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
    end() {
      budget = Infinity;
    },
    get exceeded() {
      return exceeded;
    },
  };
}
