import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cachePaths } from '../cacheDir.js';
import type { Config } from '../config.js';
import { ExecutorError, type ErrorDetails } from '../errors.js';
import type { Logger } from '../logging.js';
import type { PackageRecord } from '../runtime/packages.js';
import type { PackageSource } from '../runtime/pyodide.js';
import { runtimeInfo } from '../versions.js';
import type { InstalledRecord, InstallerData, InstallRequest, InstallResponse } from './installerMessages.js';
import { resolveFromCache } from './cachedWheels.js';
import { parseRequirements, satisfies, type Requirement } from './requirements.js';

/**
 * Installs packages for every worker, current and future. The installer worker resolves and
 * downloads (micropip); this keeps the list of installed packages, which every task carries, so a
 * worker loads whatever it lacks before it runs code. Installs run one at a time; a failed one
 * changes nothing. Each successful install is remembered (locks/), so that a later install of any
 * of its packages, in any request, comes from the cache with no network at all.
 */

const INSTALL_TIMEOUT_MS = 300_000;
const FETCH_TIMEOUT_MS = 30_000;
/** The installer holds a whole interpreter: let it go when installs stop coming. */
const INSTALLER_IDLE_MS = 60_000;

export type PackageVersion = { name: string; version: string };
export type InstallOutcome = {
  installed: PackageVersion[];
  alreadyInstalled: PackageVersion[];
  /** The installed packages came from wheels in the cache, not from the index. */
  fromCache?: boolean;
  durationMs: number;
};

export type PackageManager = {
  install(packages: readonly string[]): Promise<InstallOutcome>;
  /** What every worker must load, in install order. */
  records(): PackageRecord[];
  /** Installed packages, by name. */
  installed(): PackageVersion[];
  /** Problems of the start-up install (PREINSTALLED_PACKAGES), for health_check. */
  problems(): string[];
  /** Settles when PREINSTALLED_PACKAGES are installed or have failed. */
  ready(): Promise<void>;
  close(): Promise<void>;
};

export type PackageManagerDeps = {
  config: Config;
  logger: Logger;
  snapshot: Promise<Uint8Array>;
  packageSource: Promise<PackageSource>;
  /** Pyodide's WebAssembly, compiled once in this process: the installer instantiates it too. */
  wasm?: Promise<WebAssembly.Module | undefined>;
  /** Called after an install added packages (the pool then brings idle workers up to date). */
  onChange?: (records: PackageRecord[]) => void;
};

const INSTALLER_FILE = fileURLToPath(new URL('./installerWorker.js', import.meta.url));
const INSTALLER_SOURCE = fileURLToPath(new URL('../runtime/python/installer.py', import.meta.url));

export function createPackageManager(deps: PackageManagerDeps): PackageManager {
  const { config, logger } = deps;
  const paths = cachePaths(config);
  const records: InstalledRecord[] = [];
  const problems: string[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  let installer: { worker: Worker; idle?: NodeJS.Timeout | undefined } | undefined;
  let nextId = 1;
  let closed = false;

  // By name: the install order of one request's packages depends on download timing.
  const versions = () => records.map(({ name, version }) => ({ name, version })).sort((a, b) => a.name.localeCompare(b.name));

  async function startInstaller(): Promise<Worker> {
    const data: InstallerData = {
      snapshot: await deps.snapshot,
      wasm: await deps.wasm,
      packages: await deps.packageSource,
      indexUrls: [config.packageIndexUrl.replace(/\/+$/, '')],
      wheelsDir: paths.wheels,
      installerSource: fs.readFileSync(INSTALLER_SOURCE, 'utf8'),
      fetchTimeoutMs: FETCH_TIMEOUT_MS,
    };
    const worker = new Worker(INSTALLER_FILE, { env: {}, workerData: data, stdout: true });
    worker.stdout.resume(); // nothing a worker prints may reach the MCP channel
    worker.on('message', (m: { type?: string; level?: string; text?: string }) => {
      if (m?.type === 'worker-log') logger.debug({ text: m.text }, 'installer console');
    });
    worker.on('error', (error) => logger.error({ error: String(error) }, 'installer failed'));
    return worker;
  }

  function stopInstaller(): void {
    if (!installer) return;
    clearTimeout(installer.idle);
    void installer.worker.terminate();
    installer = undefined;
  }

  async function runInstaller(requirements: Requirement[]): Promise<InstallResponse> {
    installer ??= { worker: await startInstaller() };
    clearTimeout(installer.idle);
    const { worker } = installer;
    const id = nextId++;
    const request: InstallRequest = { id, requirements, records: [...records] };
    const response = await new Promise<InstallResponse>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the install took longer than ${INSTALL_TIMEOUT_MS / 1000} s`)), INSTALL_TIMEOUT_MS);
      const onMessage = (m: InstallResponse & { id?: number }) => {
        if (m.id !== id) return;
        cleanup();
        resolve(m);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`the installer stopped (exit code ${code})`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.postMessage(request);
    }).catch((error: unknown) => {
      stopInstaller();
      return { ok: false as const, message: String((error as Error).message ?? error), networkErrors: [] };
    });
    if (response.ok) {
      if (installer) installer.idle = setTimeout(stopInstaller, INSTALLER_IDLE_MS).unref();
    } else {
      stopInstaller(); // it may have installed part of the request: start the next one clean
    }
    return response;
  }

  /** A remembered resolution for this exact request on top of what is installed. */
  function lockFile(requirements: Requirement[]): string {
    const key = createHash('sha256')
      .update(
        JSON.stringify({
          requirements: requirements.map((r) => r.text).sort(),
          installed: records.map((r) => `${r.name}==${r.version}`),
          index: config.packageIndexUrl,
          dist: config.pyodideDistDir ?? config.pyodideDistUrl ?? null,
          pyodide: runtimeInfo().pyodideVersion,
        }),
      )
      .digest('hex')
      .slice(0, 24);
    return path.join(paths.locks, `${key}.json`);
  }

  function readLock(file: string): InstalledRecord[] | undefined {
    try {
      const locked = JSON.parse(fs.readFileSync(file, 'utf8')) as InstalledRecord[];
      for (const record of locked) {
        const digest = createHash('sha256').update(fs.readFileSync(record.file)).digest('hex');
        if (digest !== record.sha256) return undefined;
      }
      return locked;
    } catch {
      return undefined;
    }
  }

  function writeLock(file: string, added: InstalledRecord[]): void {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(added, null, 1));
      fs.renameSync(`${file}.tmp`, file);
    } catch (error) {
      logger.info({ error: String(error) }, 'install not remembered (cache not writable)');
    }
  }

  async function installNow(requirements: Requirement[], started: number): Promise<InstallOutcome> {
    const have = new Map(records.map((r) => [r.name, r]));
    const alreadyInstalled: PackageVersion[] = [];
    const wanted = requirements.filter((req) => {
      const existing = have.get(req.name);
      if (existing && satisfies(existing.version, req.specifier)) {
        alreadyInstalled.push({ name: existing.name, version: existing.version });
        return false;
      }
      return true;
    });
    if (wanted.length === 0) return { installed: [], alreadyInstalled, durationMs: performance.now() - started };
    // Cached wheels first (any earlier install's, sha256-checked), so installs come back offline.

    const lock = lockFile(wanted);
    let added = readLock(lock) ?? resolveFromCache(paths.locks, wanted, have);
    const fromCache = added !== undefined;
    if (added) {
      added = topological(added);
      logger.info({ packages: added.map((r) => `${r.name}==${r.version}`) }, 'packages installed from the cache');
      writeLock(lock, added);
    } else {
      const response = await runInstaller(wanted);
      if (!response.ok) throw installError(wanted, response, config);
      added = topological(response.added.filter((r) => !have.has(r.name)));
      // A package the request named but the installer did not add was there already.
      for (const req of wanted) {
        const version = response.installed[req.name];
        if (version && !added.some((r) => r.name === req.name) && !have.has(req.name)) {
          alreadyInstalled.push({ name: req.name, version });
        }
      }
      writeLock(lock, added);
    }
    records.push(...added);
    if (added.length > 0) deps.onChange?.([...records]);
    return { installed: added.map(({ name, version }) => ({ name, version })), alreadyInstalled, fromCache, durationMs: performance.now() - started };
  }

  const manager: PackageManager = {
    install(packages) {
      const parsed = parseRequirements(packages);
      if ('problems' in parsed) {
        return Promise.reject(
          new ExecutorError('INVALID_INPUT', `Invalid arguments: ${parsed.problems.join('; ')}`, { details: { problems: parsed.problems } }),
        );
      }
      if (closed) return Promise.reject(new ExecutorError('PACKAGE_INSTALLATION_ERROR', 'The server is shutting down'));
      const started = performance.now();
      const run = chain.then(() => installNow(parsed.requirements, started));
      chain = run.catch(() => {});
      return run;
    },
    records: () => [...records],
    installed: versions,
    problems: () => [...problems],
    ready: () => preinstalled,
    async close() {
      closed = true;
      stopInstaller();
    },
  };

  const preinstalled: Promise<void> =
    config.preinstalledPackages.length === 0
      ? Promise.resolve()
      : manager.install(config.preinstalledPackages).then(
          (outcome) => {
            logger.info({ packages: outcome.installed.map((p) => `${p.name}==${p.version}`), ms: Math.round(outcome.durationMs) }, 'preinstalled packages ready');
          },
          (error: unknown) => {
            const message = `PREINSTALLED_PACKAGES could not be installed: ${(error as Error).message}`;
            problems.push(message);
            logger.error({ error: (error as Error).message, details: (error as ExecutorError).details }, 'preinstall failed');
          },
        );
  return manager;
}

/** Dependencies before the packages that need them. */
function topological(added: InstalledRecord[]): InstalledRecord[] {
  const byName = new Map(added.map((r) => [r.name, r]));
  const out: InstalledRecord[] = [];
  const seen = new Set<string>();
  const visit = (r: InstalledRecord) => {
    if (seen.has(r.name)) return;
    seen.add(r.name);
    for (const dep of r.depends) {
      const d = byName.get(dep);
      if (d) visit(d);
    }
    out.push(r);
  };
  added.forEach(visit);
  return out;
}

/**
 * The installer's failure as the model reads it: which packages and what happened (the cause
 * first: an unreachable network before the version mismatch it led to), and, once, in
 * `details.next`, what to do.
 */
export function installError(
  requirements: Requirement[],
  response: Extract<InstallResponse, { ok: false }>,
  config: Pick<Config, 'packageIndexUrl' | 'pyodideDistDir'>,
): ExecutorError {
  const names = requirements.map((r) => r.text);
  const first = response.message.split('\n')[0] ?? '';
  const network = response.networkErrors[0];
  const distribution = config.pyodideDistDir ? 'the Pyodide distribution in PYODIDE_DIST_DIR' : 'the Pyodide distribution';
  const reachDistribution = config.pyodideDistDir
    ? 'check the network, or put the missing files into PYODIDE_DIST_DIR'
    : 'check the network, or set PYODIDE_DIST_DIR to a local copy of the Pyodide distribution (or PYODIDE_DIST_URL to a reachable mirror)';
  const reachIndex = 'check the network, or set PACKAGE_INDEX_URL to a reachable mirror';
  // Pyodide's loader reports "The following error occurred while loading numpy:" and the error apart.
  const notLoaded = [...response.message.matchAll(/error occurred while loading ([^:;\s]+):/g)].map((m) => m[1] as string);
  let reason: string;
  let message: string;
  let next: string;
  if (response.micropipUnavailable !== undefined && network) {
    reason = 'NETWORK_UNREACHABLE';
    message =
      `the network is unreachable (${network}), so micropip could not be downloaded and only the versions in ${distribution} ` +
      `can be installed: ${first.replace(/;.*$/, '')}`;
    next = reachDistribution;
  } else if (response.micropipUnavailable !== undefined) {
    reason = 'MICROPIP_UNAVAILABLE';
    message =
      `${first}. micropip, which installs from the package index, is unavailable (${response.micropipUnavailable}), ` +
      `so only packages of ${distribution} can be installed`;
    next =
      "put micropip-*.whl from the Pyodide release archive in PYODIDE_DIST_DIR (with that release's pyodide-lock.json), " +
      'or run once online so that it is cached in PACKAGE_CACHE_DIR';
  } else if (notLoaded.length > 0) {
    reason = network ? 'NETWORK_UNREACHABLE' : 'INSTALL_FAILED';
    const which = [...new Set(notLoaded)].join(', ');
    message = network ? `could not download ${which} from ${distribution} (${network})` : `could not load ${which} from ${distribution}: ${first.replace(/^.*?:;\s*/, '')}`;
    next = network ? reachDistribution : 'check that the distribution holds the files its pyodide-lock.json names';
  } else if (/Can't fetch metadata for '([^']+)'/.test(response.message)) {
    const pkg = /Can't fetch metadata for '([^']+)'/.exec(response.message)?.[1];
    if (network) {
      reason = 'NETWORK_UNREACHABLE';
      message = `could not reach the package index for '${pkg}' (${network})`;
      next = reachIndex;
    } else {
      reason = 'UNKNOWN_PACKAGE';
      message = `no package named '${pkg}' in ${distribution} or on ${config.packageIndexUrl}`;
      next = 'check the package name';
    }
  } else if (/Can't find a pure Python 3 wheel for: (.+)/.test(response.message)) {
    const probes = Object.entries(response.probes ?? {});
    const unknown = probes.filter(([, s]) => s === 'unknown').map(([n]) => `'${n}'`);
    const unreachable = probes.filter(([, s]) => s === 'unreachable').map(([n]) => `'${n}'`);
    const listed = probes.filter(([, s]) => s === 'listed').map(([n]) => `'${n}'`);
    const parts: string[] = [];
    if (unreachable.length > 0 || (network && probes.length === 0)) {
      reason = 'NETWORK_UNREACHABLE';
      parts.push(`could not reach the package index${network ? ` (${network})` : ''} for ${unreachable.join(', ') || 'them'}`);
      next = reachIndex;
    } else if (unknown.length > 0) {
      reason = 'UNKNOWN_PACKAGE';
      next = 'check the package names';
    } else {
      reason = 'NO_COMPATIBLE_WHEEL';
      next = 'ask for another version, or a pure-Python alternative';
    }
    if (unknown.length > 0) parts.push(`no package named ${unknown.join(', ')} in ${distribution} or on ${config.packageIndexUrl}`);
    if (listed.length > 0 || probes.length === 0) {
      const which = listed.join(', ') || /Can't find a pure Python 3 wheel for: (.+)/.exec(response.message)?.[1]?.trim();
      parts.push(`no wheel of ${which} matches the requested version and runs on Pyodide (only pure-Python wheels and Pyodide's own builds install)`);
    }
    message = parts.join('; ');
  } else if (/already installed|conflict/i.test(response.message)) {
    reason = 'VERSION_CONFLICT';
    message = `version conflict: ${first.replace(/\s*If you want to reinstall.*$/, '')}`;
    next = 'ask for a version compatible with what is installed (a restart of the server starts from none)';
  } else if (network) {
    reason = 'NETWORK_UNREACHABLE';
    message = `could not download (${network}): ${first}`;
    next = reachIndex;
  } else {
    reason = 'INSTALL_FAILED';
    message = first || 'the installer failed';
    next = 'check the package names and versions';
  }
  const details: ErrorDetails = { packages: names, reason, next, cause: response.message.slice(0, 2000) };
  if (response.networkErrors.length > 0) details.networkErrors = [...new Set(response.networkErrors)].slice(0, 5);
  return new ExecutorError('PACKAGE_INSTALLATION_ERROR', `Could not install ${names.join(', ')}: ${message}`, { details });
}
