/**
 * Caps the WebAssembly memory of this worker. Worker `resourceLimits` only bound the JavaScript
 * heap; Pyodide's Python heap is a WebAssembly.Memory that grows outside it. Emscripten grows it
 * through `Memory.prototype.grow` and treats a thrown error as "no memory", so refusing growth past
 * the cap makes malloc fail and Python raise MemoryError, with the interpreter still usable.
 * (Returning without growing instead corrupts the heap: measured, see README.)
 */

const PAGE = 65_536;

export type MemoryCap = {
  /** Largest size the memory may reach; changed per execution. */
  setLimit(bytes: number): void;
  /** Growth requests refused since the last reset. */
  readonly denied: number;
  resetCounters(): void;
};

let installed: MemoryCap | undefined;

/** Install once per worker, before Pyodide instantiates its module. */
export function installMemoryCap(initialLimitBytes: number): MemoryCap {
  if (installed) {
    installed.setLimit(initialLimitBytes);
    return installed;
  }
  let limit = initialLimitBytes;
  let denied = 0;
  const proto = WebAssembly.Memory.prototype;
  const grow = proto.grow;
  // Non-writable and non-configurable, so nothing that later reaches this realm can undo it.
  Object.defineProperty(proto, 'grow', {
    value: function cappedGrow(this: WebAssembly.Memory, deltaPages: number): number {
      if (this.buffer.byteLength + Number(deltaPages) * PAGE > limit) {
        denied += 1;
        throw new RangeError(`WebAssembly memory limit of ${limit} bytes reached`);
      }
      return grow.call(this, deltaPages);
    },
    writable: false,
    configurable: false,
    enumerable: false,
  });
  installed = {
    setLimit(bytes) {
      limit = bytes;
    },
    get denied() {
      return denied;
    },
    resetCounters() {
      denied = 0;
    },
  };
  return installed;
}
