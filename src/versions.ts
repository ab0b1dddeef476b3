import fs from 'node:fs';

/** Versions this server reports, read from package files (the main thread never loads Pyodide). */
export type RuntimeInfo = { version: string; pythonVersion: string; pyodideVersion: string; nodeVersion: string };

const readJson = <T>(url: URL | string): T => JSON.parse(fs.readFileSync(url, 'utf8')) as T;

let cached: RuntimeInfo | undefined;

export function runtimeInfo(): RuntimeInfo {
  cached ??= {
    version: readJson<{ version: string }>(new URL('../package.json', import.meta.url)).version,
    pyodideVersion: readJson<{ version: string }>(new URL(import.meta.resolve('pyodide/package.json'))).version,
    pythonVersion: readJson<{ info: { python: string } }>(new URL(import.meta.resolve('pyodide/pyodide-lock.json'))).info
      .python,
    nodeVersion: process.versions.node,
  };
  return cached;
}
