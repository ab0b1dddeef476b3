import { posix } from 'node:path';

/**
 * Guards Pyodide's in-memory file system while user code runs. Python's file calls reach
 * Emscripten's `FS` object through its syscalls, so wrapping its methods sees every one of them:
 *
 * - writes are allowed only under the execution's own directories (its working directory, /tmp,
 *   and a read-write host mount); anything else gets EROFS, so no run can plant a module in
 *   site-packages or change the standard library for the runs after it;
 * - bytes written to the in-memory file system count against a quota: its files live in
 *   JavaScript memory, outside the WebAssembly cap, so without it `f.write(...)` in a loop would
 *   grow the worker without bound.
 */

const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x1;

type FsNode = { mode: number; usedBytes?: number; contents?: unknown };
type FsStream = { node: FsNode; path: string; position: number; flags: number };
type LookupResult = { path: string; node: FsNode };

/** The part of Emscripten's FS object the guard wraps (method names as Emscripten defines them). */
export type EmscriptenFs = {
  lookupPath(path: string, opts?: { follow?: boolean }): LookupResult;
  cwd(): string;
  isChrdev(mode: number): boolean;
  isDir(mode: number): boolean;
  readdir(path: string): string[];
  stat(path: string): { mode: number };
  unlink(path: string): void;
  rmdir(path: string): void;
  mkdirTree(path: string, mode?: number): void;
  ErrnoError: new (errno: number) => Error;
  [method: string]: unknown;
};

export type FsGuard = {
  /** Start guarding: writes allowed only under `writableRoots`; `quotaBytes` of new file data. */
  begin(writableRoots: readonly string[], quotaBytes: number): void;
  end(): void;
  /** Bytes of file data written during the current or last run. */
  readonly bytesWritten: number;
  /** Set when the quota stopped a write. */
  readonly quotaExceeded: boolean;
};

const EROFS = 69;
const CAPTURE_DEVICE = '/dev/capture_stderr';
const EPERM = 63;
const ENOSPC = 51;

export type FsGuardOptions = {
  /** Directories that are the host's own files (a mount): no symlinks may be made there, since
   * the host would follow a link to anywhere, outside the sandbox's view. */
  hostRoots?: readonly string[];
};

export function createFsGuard(FS: EmscriptenFs, options: FsGuardOptions = {}): FsGuard {
  const hostRoots = (options.hostRoots ?? []).map((r) => posix.resolve(r));
  let active = false;
  let roots: readonly string[] = [];
  let quota = Infinity;
  let written = 0;
  let exceeded = false;

  const absolute = (p: string) => posix.resolve(FS.cwd(), p);
  // The real location a path names: symlinks followed, so a link in /tmp to /lib is caught.
  const target = (p: string): string => {
    const abs = absolute(p);
    try {
      return FS.lookupPath(abs, { follow: true }).path;
    } catch {
      try {
        return posix.join(FS.lookupPath(posix.dirname(abs), { follow: true }).path, posix.basename(abs));
      } catch {
        return abs;
      }
    }
  };
  const inside = (p: string) => roots.some((root) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`));
  const deny = (): never => {
    throw new FS.ErrnoError(EROFS);
  };
  const check = (p: string) => {
    if (active && !inside(target(p))) deny();
  };
  const charge = (node: FsNode, end: number) => {
    if (!active || node.usedBytes === undefined) return; // only in-memory files cost memory here
    const growth = end - node.usedBytes;
    if (growth <= 0) return;
    if (written + growth > quota) {
      exceeded = true;
      throw new FS.ErrnoError(ENOSPC);
    }
    written += growth;
  };

  const wrap = (name: string, before: (...args: never[]) => void) => {
    const original = FS[name];
    if (typeof original !== 'function') return;
    FS[name] = function guarded(this: unknown, ...args: unknown[]) {
      (before as (...a: unknown[]) => void)(...args);
      return (original as (...a: unknown[]) => unknown).apply(FS, args);
    };
  };

  wrap('open', (path: string | FsNode, flags: number | string) => {
    if (!active || typeof path !== 'string') return;
    const f = typeof flags === 'number' ? flags : flags === 'r' ? 0 : O_WRONLY | O_CREAT;
    if (!(f & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND))) return;
    const real = target(path);
    if (inside(real)) return;
    try {
      if (FS.isChrdev(FS.stat(real).mode) && !(f & (O_CREAT | O_TRUNC))) return; // /dev/null, ttys
    } catch {
      /* does not exist: creating it outside the roots is denied below */
    }
    deny();
  });
  wrap('write', (stream: FsStream, _buffer: unknown, _offset: number, length: number, position?: number) => {
    if (!active) return;
    if (FS.isChrdev(stream.node.mode)) return;
    if (!inside(stream.path)) deny();
    const start = stream.flags & O_APPEND ? (stream.node.usedBytes ?? 0) : (position ?? stream.position);
    charge(stream.node, start + length);
  });
  wrap('mmap', (stream: FsStream, _length: number, _position: number, prot: number, flags: number) => {
    if (active && prot & PROT_WRITE && flags & MAP_SHARED && !inside(stream.path)) deny();
  });
  wrap('truncate', (path: string | FsNode, len: number) => {
    if (!active) return;
    if (typeof path === 'string') {
      const real = target(path);
      if (!inside(real)) deny();
      charge(FS.lookupPath(real, { follow: true }).node, len);
    }
  });
  for (const name of ['mknod', 'mkdir', 'rmdir', 'unlink', 'symlink', 'chmod', 'lchmod', 'chown', 'lchown', 'utime']) {
    const pathArg = name === 'symlink' ? 1 : 0;
    wrap(name, (...args: unknown[]) => {
      const p = args[pathArg];
      if (typeof p !== 'string') return;
      // Pyodide formats a Python error raised under a JavaScript call through this device.
      if ((name === 'mknod' || name === 'unlink') && p === CAPTURE_DEVICE) return;
      const where = name === 'symlink' || name === 'unlink' || name === 'rmdir' ? parentOf(p) : p;
      check(where);
      if (active && name === 'symlink' && hostRoots.some((r) => where === r || where.startsWith(`${r}/`))) {
        throw new FS.ErrnoError(EPERM);
      }
    });
  }
  wrap('rename', (from: string, to: string) => {
    if (!active) return;
    check(parentOf(from));
    check(parentOf(to));
  });
  for (const name of ['fchmod', 'fchown']) {
    wrap(name, (fd: number) => {
      if (!active) return;
      const stream = (FS.getStream as (fd: number) => FsStream | null)(fd);
      if (stream && !inside(stream.path)) deny();
    });
  }
  FS.ftruncate = wrapFtruncate(FS, () => active, inside, charge, deny);

  // The entry itself for unlink/rmdir/symlink/rename: its directory must be writable. Resolving the
  // entry would follow a symlink to its target, which is not what these calls change.
  function parentOf(p: string): string {
    const abs = absolute(p);
    const dir = target(posix.dirname(abs));
    return posix.join(dir, posix.basename(abs));
  }

  return {
    begin(writableRoots, quotaBytes) {
      roots = writableRoots.map((r) => posix.resolve(r));
      quota = quotaBytes;
      written = 0;
      exceeded = false;
      active = true;
    },
    end() {
      active = false;
    },
    get bytesWritten() {
      return written;
    },
    get quotaExceeded() {
      return exceeded;
    },
  };
}

function wrapFtruncate(
  FS: EmscriptenFs,
  isActive: () => boolean,
  inside: (p: string) => boolean,
  charge: (node: FsNode, end: number) => void,
  deny: () => never,
) {
  const original = FS.ftruncate as (fd: number, len: number) => void;
  return function guardedFtruncate(fd: number, len: number) {
    if (isActive()) {
      const stream = (FS.getStream as (fd: number) => FsStream | null)(fd);
      if (stream) {
        if (!inside(stream.path)) deny();
        charge(stream.node, len);
      }
    }
    return original.call(FS, fd, len);
  };
}

/** Bytes of the regular files under the given directories (symbolic links not followed). */
export function directoryBytes(FS: EmscriptenFs, dirs: readonly string[]): number {
  let total = 0;
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = FS.readdir(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name === '.' || name === '..') continue;
      const p = posix.join(dir, name);
      try {
        const node = FS.lookupPath(p, { follow: false }).node;
        if (FS.isDir(node.mode)) walk(p);
        else total += node.usedBytes ?? 0;
      } catch {
        /* vanished */
      }
    }
  };
  dirs.forEach(walk);
  return total;
}

/** Remove everything under `dir` (not `dir` itself); used to wipe a run's directories. */
export function emptyDirectory(FS: EmscriptenFs, dir: string): void {
  let entries: string[];
  try {
    entries = FS.readdir(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === '.' || name === '..') continue;
    const p = posix.join(dir, name);
    let node: FsNode;
    try {
      node = FS.lookupPath(p, { follow: false }).node;
    } catch {
      continue;
    }
    if (FS.isDir(node.mode)) {
      emptyDirectory(FS, p);
      FS.rmdir(p);
    } else {
      FS.unlink(p);
    }
  }
}
