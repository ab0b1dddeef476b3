import { posix } from 'node:path';
import { emptyDirectory, type EmscriptenFs, type FsGuard } from './fsGuard.js';

/**
 * Files handed to an execution and files it hands back. Inputs are written into the working
 * directory before the code runs, with the file-system guard on (so a symbolic link a session
 * left there cannot carry a write outside); outputs are what the code left in ./output/.
 */

export type InputFile = { path: string; data: Uint8Array };

export type OutputFile = {
  /** Relative to the working directory, e.g. "output/chart.png". */
  path: string;
  mimeType: string;
  size: number;
  /** The content, unless it was left out (see `omitted`). */
  data?: Uint8Array | undefined;
  omitted?: string | undefined;
};

export type OutputLimits = { maxFiles: number; maxBytes: number };

export const OUTPUT_DIR = 'output';

const MIME_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  jsonl: 'application/jsonl',
  xml: 'application/xml',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  py: 'text/x-python',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  toml: 'application/toml',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  parquet: 'application/vnd.apache.parquet',
};

/** The type a file's name suggests; the server checks it against the bytes (server/tools/fileType.ts). */
export function mimeTypeOf(path: string): string {
  const ext = posix.extname(path).slice(1).toLowerCase();
  return MIME_TYPES[ext] ?? 'application/octet-stream';
}

/** Write the inputs; paths were checked already (relative, no "..") and are checked again here. */
export function writeInputFiles(FS: EmscriptenFs, guard: FsGuard, workdir: string, files: readonly InputFile[], quota: number): void {
  if (files.length === 0) return;
  guard.begin([workdir], quota);
  try {
    for (const file of files) {
      const target = posix.join(workdir, posix.normalize(file.path));
      if (!target.startsWith(`${workdir}/`)) throw new Error(`input file path '${file.path}' leaves the working directory`);
      makeDirectories(FS, workdir, posix.dirname(target));
      (FS.writeFile as (p: string, d: Uint8Array) => void)(target, file.data);
    }
  } finally {
    guard.end();
  }
}

/** mkdir -p below `root` only (FS.mkdirTree would try every ancestor, which the guard refuses). */
function makeDirectories(FS: EmscriptenFs, root: string, dir: string): void {
  let current = root;
  for (const part of posix.relative(root, dir).split('/').filter(Boolean)) {
    current = posix.join(current, part);
    try {
      FS.lookupPath(current, { follow: true });
    } catch {
      (FS.mkdir as (p: string) => void)(current);
    }
  }
}

/** Collect ./output/ (recursively, in name order), within the limits; then empty it. */
export function collectOutputFiles(FS: EmscriptenFs, workdir: string, limits: OutputLimits): OutputFile[] {
  const root = posix.join(workdir, OUTPUT_DIR);
  const found: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = FS.readdir(dir).filter((n) => n !== '.' && n !== '..').sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = posix.join(dir, name);
      const node = FS.lookupPath(p, { follow: false }).node;
      if (FS.isDir(node.mode)) walk(p);
      else if (((node.mode as number) & 0o170000) === 0o100000) found.push(p); // regular files only, never links
    }
  };
  walk(root);
  let bytes = 0;
  const files = found.map((p, i): OutputFile => {
    const rel = posix.relative(workdir, p);
    const mimeType = mimeTypeOf(p);
    const size = (FS.stat(p) as unknown as { size: number }).size;
    if (i >= limits.maxFiles) return { path: rel, mimeType, size, omitted: `more than ${limits.maxFiles} files (MAX_OUTPUT_FILES)` };
    if (bytes + size > limits.maxBytes) {
      return { path: rel, mimeType, size, omitted: `over ${limits.maxBytes} bytes of files in all (MAX_OUTPUT_FILES_BYTES)` };
    }
    bytes += size;
    return { path: rel, mimeType, size, data: (FS.readFile as (p: string) => Uint8Array)(p) };
  });
  emptyDirectory(FS, root);
  return files;
}
