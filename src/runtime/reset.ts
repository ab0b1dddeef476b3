import { Buffer } from 'node:buffer';
import type { PyodideAPI } from 'pyodide';
import type { EmscriptenFs } from './fsGuard.js';

/**
 * Puts an interpreter back exactly as it was at a reset point, by construction rather than by a
 * list of what to restore: the whole WebAssembly memory is rewritten from an image taken there
 * (the grown tail zeroed), so every Python object, module, setting and freed byte a run touched
 * is gone. What the memory does not hold is put back around it:
 *
 * - the file tree a run may write to: each writable root is a MEMFS mount of its own, replaced by
 *   an empty one (a removed, chmod-ed or symlinked root cannot survive); file descriptors opened
 *   since the reset point are closed; the working directory is set again;
 * - Pyodide's table of JavaScript values referenced from Python (hiwire): slots are set back, and
 *   the values it holds at the reset point (the sleep shim, the event loop's scheduleCallback, the
 *   network module) are deep-frozen there, so a run cannot leave a property on one for the next;
 * - JavaScript objects standing for Python objects made since the reset point (PyProxies, once-
 *   callables, promise handles): their pointers are cleared, so a late call throws instead of
 *   touching memory that now holds other objects, and their finalizers free nothing;
 * - timers, promise reactions and event listeners a run set never fire after it (CallbackGate,
 *   in sandbox.ts), so no JavaScript callback reaches into the old state.
 *
 * Some JavaScript-side state cannot be rolled back: a library loaded with dlopen (Emscripten's
 * registry and the function table) or a grown hiwire table. Then restore() says so and the
 * worker is replaced. Measured in a worker on a 2-core VM: ~3 ms to rewrite a 36 MiB image, plus
 * zeroing what the run grew.
 */

type Registry = {
  register(target: object, held: unknown, token?: object): void;
  unregister(token: object): boolean;
};
type Held = { ptr?: number; cache?: unknown };
type EmscriptenModule = {
  HEAPU8: Uint8Array;
  finalizationRegistry: Registry;
  wasmTable?: { length: number };
  LDSO?: { loadedLibsByName?: Record<string, unknown> };
  __hiwire_get(index: number): unknown;
  __hiwire_set(index: number, value: unknown): void;
};
type MountableFs = Omit<EmscriptenFs, 'lookupPath'> & {
  mkdirTree(path: string, mode?: number): void;
  lookupPath(path: string, opts?: { follow?: boolean; follow_mount?: boolean }): { node: unknown };
  mount(type: unknown, opts: object, mountpoint: string): unknown;
  unmount(mountpoint: string): void;
  isMountpoint(node: unknown): boolean;
  chdir(path: string): void;
  closeStream(fd: number): void;
  close(stream: unknown): void;
  streams: (unknown | null)[];
  filesystems: Record<string, unknown>;
};

export type ResetOptions = {
  /**
   * The memory the interpreter was restored from (the start-up snapshot's, shared by every
   * worker): until its first reset, the image is kept as the pages that differ from it, so a
   * worker's start copies no second 30 MB (the copy's page faults cost ~0.1–0.2 s of it).
   */
  base: Uint8Array;
  /** The run's own directories: each becomes a fresh, empty mount at every reset. */
  scratchRoots: readonly string[];
  /** The working directory a run starts in. */
  workdir: string;
};

export type ResetPoint = {
  /** Take the image again from the interpreter as it is now (at start, after a trusted install). */
  take(): void;
  /** Put the interpreter back; returns why this worker must be replaced instead, if it must. */
  restore(): string | undefined;
  /** Size of the image: the memory a run starts from. */
  readonly bytes: number;
};

const STALE = 'This Python object belonged to an earlier execution (the interpreter has been reset since)';

export function createResetPoint(py: PyodideAPI, options: ResetOptions): ResetPoint {
  const module = (py as unknown as { _module: EmscriptenModule })._module;
  const FS = py.FS as unknown as MountableFs;
  const MEMFS = FS.filesystems.MEMFS;
  const proxies = trackNewProxies(module);

  let image = createImage(options.base);
  let hiwire: unknown[] = [];
  let tableLength = 0;
  let libraries = 0;
  let descriptors = new Set<number>();

  const freshRoots = () => {
    for (const root of options.scratchRoots) {
      let node: unknown;
      try {
        node = FS.lookupPath(root, { follow_mount: false }).node;
      } catch {
        // Not there (a run cannot remove a mount point, but the path may not exist yet): make
        // it. Not every time: mkdirTree tries each parent and throws for each that exists
        // (~0.13 ms of every reset).
        FS.mkdirTree(root);
        node = FS.lookupPath(root, { follow_mount: false }).node;
      }
      if (FS.isMountpoint(node)) FS.unmount(root);
      FS.mount(MEMFS, {}, root);
    }
    FS.chdir(options.workdir);
  };
  const closeNewDescriptors = () => {
    FS.streams.forEach((stream, fd) => {
      if (stream && !descriptors.has(fd)) {
        try {
          FS.close(stream);
        } catch {
          FS.streams[fd] = null;
        }
      }
    });
  };

  return {
    take() {
      freshRoots();
      image = createImage(options.base, module.HEAPU8);
      hiwire = readHiwire(module);
      const api = (py as unknown as { _api?: object })._api;
      for (const value of hiwire) if (value !== api) deepFreeze(value);
      tableLength = module.wasmTable?.length ?? 0;
      libraries = Object.keys(module.LDSO?.loadedLibsByName ?? {}).length;
      descriptors = new Set(FS.streams.flatMap((s, fd) => (s ? [fd] : [])));
      proxies.forget();
    },
    restore() {
      proxies.invalidate();
      closeNewDescriptors();
      freshRoots();
      image.writeTo(module.HEAPU8);
      const now = readHiwire(module);
      for (let i = 0; i < hiwire.length; i += 1) module.__hiwire_set(i, hiwire[i]);
      if (now.length !== hiwire.length) return 'the interpreter holds more JavaScript values than its reset point had room for';
      if ((module.wasmTable?.length ?? 0) !== tableLength) return 'the code loaded a native library';
      if (Object.keys(module.LDSO?.loadedLibsByName ?? {}).length !== libraries) return 'the code loaded a native library';
      return undefined;
    },
    get bytes() {
      return image.length;
    },
  };
}

const PAGE = 4096;
const BLOCK = 16 * PAGE;

export type Image = {
  readonly length: number;
  /** Write the image over `heap` (at least as long) and zero the rest. */
  writeTo(heap: Uint8Array): void;
};

/**
 * The memory `heap` holds now, as the runs of pages that differ from `base`, plus what lies past it.
 * Runs of pages that are zero (about 40% of a fresh interpreter: the stack's unused depth, the
 * allocator's free tail) are written back with a fill, not copied: half the memory traffic there.
 */
export function createImage(base: Uint8Array, heap?: Uint8Array): Image {
  if (!heap) return { length: 0, writeTo: () => {} };
  const shared = Math.min(base.length, heap.length) & ~(PAGE - 1);
  // memcmp, 64 KiB blocks first and pages only within blocks that differ: a JavaScript loop over
  // 30 MB would run once per worker, before V8 optimises it.
  const a = Buffer.from(base.buffer, base.byteOffset, shared);
  const b = Buffer.from(heap.buffer, heap.byteOffset, shared);
  const zero = Buffer.alloc(BLOCK);
  const same = (from: number, to: number) => a.compare(b, from, to, from, to) === 0;
  const isZero = (from: number, to: number) => a.compare(zero, 0, to - from, from, to) === 0;
  /** [from, to, source]: where each range of the image comes from; adjacent ones of a source merged. */
  const segments: [number, number, Source][] = [];
  const add = (from: number, to: number, source: Source) => {
    const last = segments[segments.length - 1];
    if (last && last[1] === from && last[2] === source) last[1] = to;
    else segments.push([from, to, source]);
  };
  for (let block = 0; block < shared; block += BLOCK) {
    const end = Math.min(shared, block + BLOCK);
    if (same(block, end)) {
      add(block, end, isZero(block, end) ? 'zero' : 'base');
      continue;
    }
    for (let page = block; page < end; page += PAGE) {
      add(page, page + PAGE, !same(page, page + PAGE) ? 'patch' : isZero(page, page + PAGE) ? 'zero' : 'base');
    }
  }
  // Until its first write, the image is the snapshot plus the pages that differ from it (a
  // worker's start copies no more than those); from then on, a copy of its own (see ownWriter).
  let write = patchedWriter(base, heap, segments, (own) => {
    write = own;
  });
  const length = heap.length;
  return {
    length,
    writeTo(target) {
      write(target);
      target.fill(0, length);
    },
  };
}

type Writer = (target: Uint8Array) => void;

/** Writes the image from the shared snapshot and a copy of the pages that differ from it, once. */
function patchedWriter(base: Uint8Array, heap: Uint8Array, segments: [number, number, Source][], replace: (writer: Writer) => void): Writer {
  const shared = segments[segments.length - 1]?.[1] ?? 0;
  const patched = segments.filter(([, , source]) => source === 'patch');
  const patch = new Uint8Array(patched.reduce((n, [from, to]) => n + to - from, 0));
  const patchAt = new Map<number, number>();
  let at = 0;
  for (const [from, to] of patched) {
    patch.set(heap.subarray(from, to), at);
    patchAt.set(from, at);
    at += to - from;
  }
  const tail = heap.slice(shared);
  const length = heap.length;
  return (target) => {
    for (const [from, to, source] of segments) {
      if (source === 'zero') target.fill(0, from, to);
      else if (source === 'base') target.set(base.subarray(from, to), from);
      else {
        const offset = patchAt.get(from) ?? 0;
        target.set(patch.subarray(offset, offset + to - from), from);
      }
    }
    target.set(tail, shared);
    replace(ownWriter(target, segments, length)); // this writer, and the patch with it, can go
  };
}

/**
 * The image's non-zero ranges in a buffer of the worker's own, taken from memory that holds the
 * image. Copying out of the shared snapshot goes through V8's relaxed-atomic memmove (a
 * SharedArrayBuffer may be written by another thread): timed in a worker, a reset took ~4.6 ms
 * that way and ~2.9 ms from a private copy, which costs the worker ~15 MiB more. Made at the
 * first reset, after the worker's first answer, so that a worker's start does not wait for it.
 */
function ownWriter(heap: Uint8Array, segments: readonly [number, number, Source][], length: number): Writer {
  const zeros: [number, number][] = [];
  const runs: [number, number][] = [];
  const end = segments[segments.length - 1]?.[1] ?? 0;
  for (const [from, to, source] of [...segments, [end, length, 'base'] as const]) {
    if (from === to) continue;
    const list = source === 'zero' ? zeros : runs;
    const previous = list[list.length - 1];
    if (previous?.[1] === from) previous[1] = to;
    else list.push([from, to]);
  }
  const bytes = new Uint8Array(runs.reduce((n, [from, to]) => n + to - from, 0));
  let at = 0;
  for (const [from, to] of runs) {
    bytes.set(heap.subarray(from, to), at);
    at += to - from;
  }
  return (target) => {
    for (const [from, to] of zeros) target.fill(0, from, to);
    let offset = 0;
    for (const [from, to] of runs) {
      target.set(bytes.subarray(offset, offset + to - from), from);
      offset += to - from;
    }
  };
}

type Source = 'zero' | 'base' | 'patch';

/** Freeze a value and everything reachable through its own properties (accessors left alone). */
function deepFreeze(root: unknown): void {
  const stack = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || Object.isFrozen(value)) continue;
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      const desc = Reflect.getOwnPropertyDescriptor(value, key);
      if (desc && 'value' in desc) stack.push(desc.value);
    }
  }
}

function readHiwire(module: EmscriptenModule): unknown[] {
  const slots: unknown[] = [];
  for (;;) {
    try {
      slots.push(module.__hiwire_get(slots.length));
    } catch {
      return slots;
    }
  }
}

/**
 * Every JavaScript object that stands for a Python object is registered with Pyodide's
 * finalization registry, which frees the Python object when the JavaScript one is collected.
 * Those made since the reset point are recorded, so that at the reset they can be cut off from
 * the memory: their pointer cleared (a call then throws) and their finalizer made to free
 * nothing (Py_DecRef(NULL) is a no-op), where it would otherwise free an object of the new state.
 */
function trackNewProxies(module: EmscriptenModule) {
  const registry = module.finalizationRegistry;
  let held: Held[] = [];
  let targets: WeakRef<object>[] = [];
  module.finalizationRegistry = {
    register(target, value, token) {
      if (value && typeof value === 'object') held.push(value as Held);
      targets.push(new WeakRef(target));
      registry.register(target, value, token);
    },
    unregister: (token) => registry.unregister(token),
  };
  return {
    forget() {
      held = [];
      targets = [];
    },
    invalidate() {
      for (const value of held) {
        value.ptr = 0;
        value.cache = undefined;
      }
      for (const ref of targets) {
        const target = ref.deref() as (Held & { destroyed_msg?: string }) | undefined;
        if (target && typeof target.ptr === 'number') {
          target.ptr = 0;
          target.destroyed_msg = STALE;
        }
      }
      held = [];
      targets = [];
    },
  };
}
