import fs from 'node:fs';
import type { PyodideAPI } from 'pyodide';

/**
 * Time zones come from the host's system database (tzdata, kept current by the host's package
 * manager), mounted read-only at the same path, the first place Python's zoneinfo looks. The
 * WebAssembly build has none, and the tzdata wheel needs an index. Writes there are refused by
 * the file-system guard like anywhere outside the run's own directories.
 */
export const ZONEINFO_DIR = '/usr/share/zoneinfo';

/** Whether the host has a time-zone database to mount (launcher.ts opens it for reading). */
export function hostHasZoneinfo(): boolean {
  try {
    return fs.statSync(`${ZONEINFO_DIR}/UTC`).isFile();
  } catch {
    return false; // absent, or not readable under the permission model
  }
}

/** Mount the host's database, if any; returns the mount point, or undefined. */
export function mountZoneinfo(py: PyodideAPI): string | undefined {
  if (!hostHasZoneinfo()) return undefined;
  py.FS.mkdirTree(ZONEINFO_DIR);
  py.mountNodeFS(ZONEINFO_DIR, ZONEINFO_DIR);
  return ZONEINFO_DIR;
}
