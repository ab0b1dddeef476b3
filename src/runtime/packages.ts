import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { PyodideAPI } from 'pyodide';

/**
 * Loads installed packages into a worker's Pyodide from local files only: the installer has
 * already downloaded and checked them. Distribution packages (numpy, …) go through Pyodide's
 * loader by name, which also handles their shared libraries; wheels from the index by path.
 */

export type PackageRecord = {
  name: string;
  version: string;
  /** `dist`: from Pyodide's distribution (its lockfile); `wheel`: from the package index. */
  kind: 'dist' | 'wheel';
  /** Absolute path of the wheel on this machine. */
  file: string;
  sha256: string;
};

export type PackageLoader = {
  /** Load the records this interpreter lacks, in order. Returns the names it loaded. */
  sync(records: readonly PackageRecord[]): Promise<string[]>;
  /** Note records this interpreter got another way (the installer's own micropip installs). */
  markLoaded(records: readonly PackageRecord[]): void;
};

export function createPackageLoader(py: PyodideAPI): PackageLoader {
  const loaded = new Set<string>();
  const key = (r: PackageRecord) => `${r.name}==${r.version}`;
  return {
    async sync(records) {
      const missing = records.filter((r) => !loaded.has(key(r)));
      if (missing.length === 0) return [];
      for (const record of missing) verify(record);
      const errors: string[] = [];
      const options = { messageCallback: () => {}, errorCallback: (m: string) => errors.push(m), checkIntegrity: false };
      const dist = missing.filter((r) => r.kind === 'dist');
      const wheels = missing.filter((r) => r.kind === 'wheel');
      if (dist.length > 0) await py.loadPackage(dist.map((r) => r.name), options);
      if (wheels.length > 0) await py.loadPackage(wheels.map((r) => r.file), options);
      // loadPackage reports failures through errorCallback and resolves anyway.
      if (errors.length > 0) throw new Error(`could not load ${missing.map(key).join(', ')}: ${errors.join('; ')}`);
      for (const record of missing) loaded.add(key(record));
      return missing.map((r) => r.name);
    },
    markLoaded(records) {
      for (const record of records) loaded.add(key(record));
    },
  };
}

/** A cached wheel is used only if it still has the hash it had when it was installed. */
export function verify(record: PackageRecord): void {
  const digest = createHash('sha256').update(fs.readFileSync(record.file)).digest('hex');
  if (digest !== record.sha256) {
    throw new Error(`${record.file} does not match its recorded sha256 (the cache was changed); reinstall ${record.name}`);
  }
}
