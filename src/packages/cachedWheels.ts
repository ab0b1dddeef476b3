import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { InstalledRecord } from './installerMessages.js';
import { satisfies, type Requirement } from './requirements.js';

/**
 * Requirements resolved against wheels an earlier install left in the cache, whatever request
 * they came with: every remembered install (locks/*.json) is a set of packages that resolved
 * together, so a package and its dependencies are taken from the same one where they can be. Only
 * pure-Python wheels (`none-any`) are taken, since they load under any Pyodide; each is checked
 * against the sha256 recorded when it was installed. Undefined when anything is missing: the
 * index decides then.
 */
export function resolveFromCache(
  locksDir: string,
  wanted: readonly Requirement[],
  installed: ReadonlyMap<string, InstalledRecord>,
): InstalledRecord[] | undefined {
  const locks = readLocks(locksDir);
  if (locks.length === 0) return undefined;
  const chosen = new Map<string, InstalledRecord>();
  const verified = new Map<string, boolean>();
  const usable = (r: InstalledRecord) => {
    if (!r.file.endsWith('-none-any.whl')) return false;
    let ok = verified.get(r.file);
    if (ok === undefined) {
      try {
        ok = createHash('sha256').update(fs.readFileSync(r.file)).digest('hex') === r.sha256;
      } catch {
        ok = false;
      }
      verified.set(r.file, ok);
    }
    return ok;
  };
  // A package, then its dependencies: from its own lock first, else from any.
  const take = (record: InstalledRecord, lock: readonly InstalledRecord[]): boolean => {
    const held = chosen.get(record.name);
    if (held) return held.version === record.version;
    if (!usable(record)) return false;
    chosen.set(record.name, record);
    for (const dep of record.depends) {
      if (installed.has(dep) || chosen.has(dep)) continue;
      const same = lock.find((r) => r.name === dep);
      const found = same && usable(same) ? { record: same, lock } : candidates(locks, dep, '').find((c) => usable(c.record));
      if (!found || !take(found.record, found.lock)) return false;
    }
    return true;
  };
  for (const req of wanted) {
    const options = candidates(locks, req.name, req.specifier);
    const before = new Map(chosen);
    const pick = options.find((c) => {
      if (take(c.record, c.lock)) return true;
      chosen.clear();
      for (const [k, v] of before) chosen.set(k, v);
      return false;
    });
    if (!pick) return undefined;
  }
  return [...chosen.values()];
}

type Candidate = { record: InstalledRecord; lock: readonly InstalledRecord[] };

/** Cached records of a package that satisfy the specifier, newest version first. */
function candidates(locks: readonly (readonly InstalledRecord[])[], name: string, specifier: string): Candidate[] {
  const out: Candidate[] = [];
  for (const lock of locks) {
    for (const record of lock) {
      if (record.name === name && satisfies(record.version, specifier) === true) out.push({ record, lock });
    }
  }
  return out.sort((a, b) => b.record.version.localeCompare(a.record.version, 'en', { numeric: true }));
}

function readLocks(dir: string): InstalledRecord[][] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const locks: InstalledRecord[][] = [];
  for (const name of names) {
    try {
      const lock = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as unknown;
      if (Array.isArray(lock)) locks.push(lock as InstalledRecord[]);
    } catch {
      /* a lock being written, or damaged: not a source */
    }
  }
  return locks;
}
