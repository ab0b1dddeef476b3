import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

/**
 * Test packages made on the spot: a wheel is a zip of the package and a dist-info directory.
 * Tests serve them from a Pyodide-style distribution directory (its own pyodide-lock.json) and from
 * a PEP 503 simple index on 127.0.0.1. Nothing here needs the network or a Python.
 */

export type WheelSpec = {
  name: string;
  version: string;
  /** Module files, relative to site-packages; defaults to `<name>/__init__.py` with VERSION. */
  files?: Record<string, string>;
  requires?: string[];
};

export type BuiltWheel = { name: string; version: string; fileName: string; bytes: Buffer; sha256: string };

/** A zip archive (stored, not compressed) of the given files. */
export function zip(files: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(0, 30);
    central.writeUInt32LE(0, 34);
    central.writeUInt32LE(0o644 << 16, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

const b64sha = (b: Buffer) => createHash('sha256').update(b).digest('base64url');

/** A pure-Python wheel (py3-none-any) with METADATA, WHEEL, top_level.txt and RECORD. */
export function buildWheel(spec: WheelSpec): BuiltWheel {
  const dist = spec.name.replace(/-/g, '_');
  const files: Record<string, string> = spec.files ?? {
    [`${dist}/__init__.py`]: `VERSION = ${JSON.stringify(spec.version)}\nNAME = ${JSON.stringify(spec.name)}\n`,
  };
  const info = `${dist}-${spec.version}.dist-info`;
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    ...(spec.requires ?? []).map((r) => `Requires-Dist: ${r}`),
    '',
  ].join('\n');
  const all: Record<string, string> = {
    ...files,
    [`${info}/METADATA`]: metadata,
    [`${info}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: mcp-python-executor-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    [`${info}/top_level.txt`]: `${[...new Set(Object.keys(files).map((f) => f.split('/')[0]?.replace(/\.py$/, '')))].join('\n')}\n`,
  };
  const record = Object.entries(all).map(([n, c]) => `${n},sha256=${b64sha(Buffer.from(c))},${Buffer.byteLength(c)}`);
  all[`${info}/RECORD`] = `${[...record, `${info}/RECORD,,`].join('\n')}\n`;
  const bytes = zip(all);
  const fileName = `${dist}-${spec.version}-py3-none-any.whl`;
  return { name: spec.name, version: spec.version, fileName, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * A Pyodide-style distribution directory: pyodide-lock.json (the info of the installed Pyodide,
 * plus one entry per wheel) and the wheels. `extra` adds files as they are (e.g. a real micropip).
 */
export function buildDistribution(dir: string, wheels: (BuiltWheel & { depends?: string[]; imports?: string[] })[], extra: { path: string; entry: Record<string, unknown> }[] = []) {
  fs.mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  const npmLock = JSON.parse(fs.readFileSync(require.resolve('pyodide/pyodide-lock.json'), 'utf8')) as { info: unknown };
  const packages: Record<string, unknown> = {};
  for (const w of wheels) {
    fs.writeFileSync(path.join(dir, w.fileName), w.bytes);
    packages[w.name] = {
      name: w.name,
      version: w.version,
      file_name: w.fileName,
      install_dir: 'site',
      sha256: w.sha256,
      package_type: 'package',
      imports: w.imports ?? [w.name.replace(/-/g, '_')],
      depends: w.depends ?? [],
      unvendored_tests: false,
    };
  }
  for (const e of extra) {
    fs.copyFileSync(e.path, path.join(dir, path.basename(e.path)));
    packages[String(e.entry.name)] = e.entry;
  }
  fs.writeFileSync(path.join(dir, 'pyodide-lock.json'), JSON.stringify({ info: npmLock.info, packages }, null, 1));
}

export type IndexServer = { url: string; requests: string[]; close(): Promise<void> };

/** A PEP 503 simple index of the given wheels on 127.0.0.1 (HTML pages with sha256 fragments). */
export async function startIndexServer(wheels: BuiltWheel[]): Promise<IndexServer> {
  const requests: string[] = [];
  const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    const page = /^\/simple\/([^/]+)\/?$/.exec(url.pathname);
    if (page) {
      const matching = wheels.filter((w) => norm(w.name) === norm(page[1] as string));
      if (matching.length === 0) {
        res.writeHead(404).end('not found');
        return;
      }
      const links = matching.map((w) => `<a href="/files/${w.fileName}#sha256=${w.sha256}">${w.fileName}</a><br/>`).join('\n');
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body>\n${links}\n</body></html>`);
      return;
    }
    const file = /^\/files\/(.+)$/.exec(url.pathname);
    const wheel = file && wheels.find((w) => w.fileName === file[1]);
    if (wheel) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': wheel.bytes.length }).end(wheel.bytes);
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Serves the files of a directory on 127.0.0.1 (a Pyodide distribution mirror), counting requests. */
export async function startStaticServer(dir: string): Promise<IndexServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    requests.push(name);
    const file = path.join(dir, path.basename(name));
    if (!name || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A micropip wheel to run the real micropip path with, if this machine has one (see README). */
export function findMicropipWheel(): string | undefined {
  const candidates = [
    process.env.MICROPIP_WHEEL,
    // The shared test input beside the checkout (a fixture of the machine, never copied in).
    fileURLToPath(new URL('../../../shared/fixtures/micropip-0.11.1-py3-none-any.whl', import.meta.url)),
    process.env.PYODIDE_DIST_DIR,
    path.join(process.env.XDG_CACHE_HOME || path.join(process.env.HOME ?? '', '.cache'), 'mcp-python-executor', 'pyodide'),
  ];
  for (const candidate of candidates) {
    if (!candidate || !fs.existsSync(candidate)) continue;
    if (candidate.endsWith('.whl')) return candidate;
    const found = fs.readdirSync(candidate).find((f) => /^micropip-.*\.whl$/.test(f));
    if (found) return path.join(candidate, found);
  }
  return undefined;
}

/** The lockfile entry for a micropip wheel (its sha256 is whatever this copy has). */
export function micropipEntry(file: string): { path: string; entry: Record<string, unknown> } {
  const bytes = fs.readFileSync(file);
  const version = /^micropip-([^-]+)-/.exec(path.basename(file))?.[1] ?? '0';
  return {
    path: file,
    entry: {
      name: 'micropip',
      version,
      file_name: path.basename(file),
      install_dir: 'site',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      package_type: 'package',
      imports: ['micropip'],
      depends: [],
      unvendored_tests: false,
    },
  };
}
