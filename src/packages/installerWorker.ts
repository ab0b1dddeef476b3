import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PyProxy } from 'pyodide/ffi';
import { routeConsoleToParent } from '../runtime/console.js';
import { createPackageLoader, type PackageRecord } from '../runtime/packages.js';
import { loadRuntime } from '../runtime/pyodide.js';
import type { AddedPackage, InstallerData, InstallRequest, InstallResponse } from './installerMessages.js';
import { satisfies, type Requirement } from './requirements.js';

/**
 * The installer: a worker with its own Pyodide that runs micropip and nothing else, never user
 * code, so it may use the network and write to the cache. It installs into itself, reports what
 * it added, and leaves the wheels in the cache, where the execution workers load them from.
 */

const data = workerData as InstallerData;
routeConsoleToParent();

/** Wheels fetched during the current install, by URL (without fragment). */
const fetched = new Map<string, Uint8Array>();
const networkErrors: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = (input instanceof Request ? input.url : String(input)).split('#')[0] as string;
  const timeout = AbortSignal.timeout(data.fetchTimeoutMs);
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await realFetch(input, { ...init, signal });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    networkErrors.push(`${new URL(url).host}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    throw error;
  }
  if (!response.ok || !url.endsWith('.whl')) return response;
  const bytes = new Uint8Array(await response.arrayBuffer());
  fetched.set(url, bytes);
  return new Response(bytes, { status: response.status, headers: response.headers });
};

const ready = (async () => {
  const py = await loadRuntime({ packages: data.packages, snapshot: data.snapshot, wasm: data.wasm });
  // The snapshot's `js` module is an empty object (execution workers must not reach globalThis);
  // micropip fetches through pyodide.http, which needs the real one.
  py.registerJsModule('js', globalThis);
  return { py, loader: createPackageLoader(py) };
})();

let micropip: { install: (reqs: string[], urls: string[]) => Promise<string> } | { unavailable: string } | undefined;

async function loadMicropip(py: Awaited<typeof ready>['py']) {
  const errors: string[] = [];
  try {
    // Resolves even when the download failed (it only reports through errorCallback), and
    // rejects when the lockfile has no micropip at all.
    await py.loadPackage('micropip', { messageCallback: () => {}, errorCallback: (m: string) => errors.push(m) });
  } catch (error) {
    errors.push(String((error as Error).message ?? error));
  }
  try {
    const ns = py.runPython('dict()') as PyProxy & { get(k: string): unknown };
    py.runPython(data.installerSource, { globals: ns, filename: '<installer>' });
    const install = ns.get('install') as (reqs: string[], urls: string[]) => Promise<string>;
    return { install: (reqs: string[], urls: string[]) => install(reqs, urls) };
  } catch {
    const why = networkErrors.length > 0 ? `network unreachable: ${networkErrors.at(-1)}` : errors.join('; ') || 'not found';
    return { unavailable: why };
  }
}

async function handle(request: InstallRequest): Promise<InstallResponse> {
  fetched.clear();
  networkErrors.length = 0;
  const { py, loader } = await ready;
  await loader.sync(request.records);
  micropip ??= await loadMicropip(py);
  if ('unavailable' in micropip) return installFromLockfile(py, request.requirements, micropip.unavailable);

  const result = JSON.parse(await micropip.install(request.requirements.map((r) => r.text), data.indexUrls)) as
    | { ok: true; added: AddedPackage[]; installed: Record<string, string> }
    | { ok: false; type: string; message: string };
  if (!result.ok) {
    return { ok: false, message: result.message, networkErrors: [...networkErrors], probes: await probe(result.message) };
  }
  const added = result.added.map(toRecord);
  loader.markLoaded(added);
  return { ok: true, added, installed: result.installed };
}

/**
 * micropip says "Can't find a pure Python 3 wheel for: 'a', 'b'" whether the index does not know a
 * package, lists no wheel that fits, or cannot be reached; ask the index to tell them apart.
 */
async function probe(message: string): Promise<Record<string, 'unknown' | 'unreachable' | 'listed'>> {
  const list = /Can't find a pure Python 3 wheel for: (.+)/.exec(message)?.[1] ?? '';
  const names = [...list.matchAll(/'([^']+)'/g)].map((m) => (m[1] as string).split(/[<>=!~\[ ;]/)[0] as string);
  const out: Record<string, 'unknown' | 'unreachable' | 'listed'> = {};
  for (const name of names.slice(0, 10)) {
    try {
      const response = await globalThis.fetch(`${data.indexUrls[0]}/${name}/`, { headers: { accept: 'text/html' } });
      out[name] = response.status === 404 ? 'unknown' : 'listed';
    } catch {
      out[name] = 'unreachable';
    }
  }
  return out;
}

/** Without micropip: packages in Pyodide's lockfile can still be loaded by Pyodide itself. */
async function installFromLockfile(
  py: Awaited<typeof ready>['py'],
  requirements: Requirement[],
  micropipProblem: string,
): Promise<InstallResponse> {
  const lock = (py as unknown as { _api: { lockfile_packages: Record<string, LockEntry> } })._api.lockfile_packages;
  const problems: string[] = [];
  for (const req of requirements) {
    const entry = lock[req.name];
    if (!entry) problems.push(`'${req.text}' is not in the Pyodide distribution`);
    else if (satisfies(entry.version, req.specifier) === false) {
      problems.push(`'${req.text}' does not match the Pyodide distribution's ${req.name} ${entry.version}`);
    }
  }
  if (problems.length > 0) {
    return { ok: false, micropipUnavailable: micropipProblem, message: problems.join('; '), networkErrors: [...networkErrors] };
  }
  const before = new Set(Object.keys(py.loadedPackages));
  const errors: string[] = [];
  await py.loadPackage(
    requirements.map((r) => r.name),
    { messageCallback: () => {}, errorCallback: (m: string) => errors.push(m) },
  );
  if (errors.length > 0) return { ok: false, message: errors.join('; '), networkErrors: [...networkErrors] };
  const { loader } = await ready;
  const added = Object.keys(py.loadedPackages)
    .filter((name) => !before.has(name) && lock[name])
    .map((name) => {
      const entry = lock[name] as LockEntry;
      return toRecord({ name, version: entry.version, kind: 'dist', file_name: entry.file_name, sha256: entry.sha256, depends: entry.depends });
    });
  const installed = Object.fromEntries(Object.keys(py.loadedPackages).map((n) => [n, lock[n]?.version ?? 'unknown']));
  loader.markLoaded(added);
  return { ok: true, added, installed };
}

type LockEntry = { version: string; file_name: string; sha256: string; depends: string[] };

/** Where the wheel of an added package is on disk, checked against its sha256. */
function toRecord(pkg: AddedPackage): PackageRecord & { depends: string[] } {
  let file: string;
  if (pkg.kind === 'dist') {
    // Pyodide's loader leaves what it downloaded in its cache; a local distribution stays where it is.
    const local = data.packages.distDir ? path.join(data.packages.distDir, path.basename(pkg.file_name)) : undefined;
    file = local && fs.existsSync(local) ? local : path.join(data.packages.cacheDir, path.basename(pkg.file_name));
  } else {
    const url = pkg.file_name.split('#')[0] as string;
    const bytes = fetched.get(url);
    if (!bytes) throw new Error(`the wheel of ${pkg.name} (${url}) was not downloaded`);
    fs.mkdirSync(data.wheelsDir, { recursive: true });
    file = path.join(data.wheelsDir, path.basename(new URL(url).pathname));
    fs.writeFileSync(`${file}.tmp`, bytes);
    fs.renameSync(`${file}.tmp`, file);
  }
  const digest = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (pkg.sha256 && digest !== pkg.sha256) {
    throw new Error(`${path.basename(file)} has sha256 ${digest}, expected ${pkg.sha256}`);
  }
  return { name: pkg.name, version: pkg.version, kind: pkg.kind, file, sha256: digest, depends: pkg.depends };
}

parentPort?.on('message', (request: InstallRequest) => {
  handle(request).then(
    (response) => parentPort?.postMessage({ ...response, id: request.id }),
    (error: unknown) =>
      parentPort?.postMessage({
        id: request.id,
        ok: false,
        message: String((error as Error)?.message ?? error),
        networkErrors: [...networkErrors],
      } satisfies InstallResponse & { id: number }),
  );
});
