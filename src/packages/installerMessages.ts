import type { PackageRecord } from '../runtime/packages.js';
import type { PackageSource } from '../runtime/pyodide.js';
import type { Requirement } from './requirements.js';

/** The contract between the package manager (main thread) and the installer worker. */

export type InstallerData = {
  snapshot: Uint8Array;
  /** Pyodide's WebAssembly, already compiled (undefined: the installer compiles it). */
  wasm?: WebAssembly.Module | undefined;
  packages: PackageSource;
  indexUrls: string[];
  wheelsDir: string;
  installerSource: string;
  fetchTimeoutMs: number;
};

export type InstallRequest = {
  id: number;
  requirements: Requirement[];
  /** What is installed already, for the installer to load first (it may be a new worker). */
  records: PackageRecord[];
};

/** A package micropip (or Pyodide's loader) added, as installer.py reports it. */
export type AddedPackage = {
  name: string;
  version: string;
  kind: 'dist' | 'wheel';
  file_name: string;
  sha256: string | null;
  depends: string[];
};

export type InstalledRecord = PackageRecord & { depends: string[] };

export type InstallResponse =
  | { ok: true; added: InstalledRecord[]; installed: Record<string, string> }
  | {
      ok: false;
      message: string;
      networkErrors: string[];
      micropipUnavailable?: string;
      /** What the index says of each package micropip could not find a wheel for. */
      probes?: Record<string, 'unknown' | 'unreachable' | 'listed'>;
    };
