import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, type ExecResult, type TestServer } from './server.js';

/**
 * Helpers for the sandbox escape suite (test/e2e/sandbox.test.ts): a server that can be replaced
 * when an attack broke it, the real server process (for its memory), a loopback listener that
 * counts connections, and the Python snippets the attacks share.
 */

/**
 * `py` template for Python source: String.raw (Python backslashes stay as written), the common
 * indent removed, and a multi-line interpolated snippet indented like the line it is placed on.
 */
export function py(strings: TemplateStringsArray, ...values: unknown[]): string {
  const mark = (i: number) => `\u0000${i}\u0000`;
  const raw = String.raw({ raw: strings.raw }, ...values.map((_, i) => mark(i)));
  const lines = raw.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  const out = lines.map((line) => {
    const body = line.slice(indent);
    const lead = /^ */.exec(body)![0];
    return body.replace(/\u0000(\d+)\u0000/g, (_m, i: string) =>
      String(values[Number(i)]).replace(/\n$/, '').split('\n').join(`\n${lead}`),
    );
  });
  return `${out.join('\n')}\n`;
}

export type Outcome = ExecResult | { failed: string };

/** Everything a run returned, as one string, for "the secret must not appear anywhere" checks. */
export function allText(r: Outcome): string {
  if ('failed' in r) return r.failed;
  return [r.stdout, r.stderr, r.result ?? '', r.error ? JSON.stringify(r.error) : '', r.text].join('\n');
}

/**
 * A server under attack: `server` is replaced by `ensureHealthy()` when it stopped answering, so
 * one successful attack does not fail every later test.
 */
export class SandboxServer {
  server!: TestServer;
  pid = 0;
  starts = 0;

  constructor(readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.server = await startServer(this.env);
    this.starts += 1;
    // On Node 20 the launcher spawns the sandboxed server as a child: its "starting" log line
    // carries the real pid (the one whose memory matters).
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const line = this.server
        .stderr()
        .split('\n')
        .find((l) => l.includes('"starting"'));
      if (line) {
        this.pid = Number((JSON.parse(line) as { pid: number }).pid);
        break;
      }
      await sleep(50);
    }
    const r = await this.run('6 * 7');
    if ('failed' in r || r.result !== '42') throw new Error(`server did not start: ${allText(r)}`);
  }

  /** execute_python with a client-side time limit; a lost or late answer is a value, not a throw. */
  async run(
    code: string,
    options: { inputData?: string[]; timeoutMs?: number; clientTimeoutMs?: number; fullOutput?: boolean } = {},
  ): Promise<Outcome> {
    const args: Record<string, unknown> = { code };
    if (options.fullOutput) args.fullOutput = true;
    if (options.inputData) args.inputData = options.inputData;
    if (options.timeoutMs) args.timeoutMs = options.timeoutMs;
    try {
      const result = await this.server.call('execute_python', args, { timeout: options.clientTimeoutMs ?? 30_000 });
      const first = result.content[0];
      // SANDBOX_DEBUG=1 prints each attack and what it returned.
      if (process.env.SANDBOX_DEBUG) console.log(`--- code:\n${code}\n--- returned:\n${first?.type === 'text' ? first.text : ''}`);
      return {
        ...(result.structuredContent as Omit<ExecResult, 'text' | 'isError'>),
        text: first?.type === 'text' ? first.text : '',
        isError: result.isError === true,
        resources: result.content.flatMap((c) => (c.type === 'resource' && 'text' in c.resource ? [{ uri: c.resource.uri, text: String(c.resource.text) }] : [])),
      };
    } catch (error) {
      return { failed: `no answer: ${(error as Error).message}` };
    }
  }

  /** Whether the server answers a normal call, correctly, within `ms`. */
  async answers(ms = 15_000): Promise<boolean> {
    const r = await this.run('print(6 * 7)', { clientTimeoutMs: ms });
    return !('failed' in r) && r.status === 'success' && r.stdout === '42\n';
  }

  processAlive(): boolean {
    try {
      process.kill(this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Restart the server if an attack left it dead, frozen or bloated. */
  async ensureHealthy(maxRssMb = Infinity): Promise<void> {
    const ok = this.processAlive() && (await this.answers(10_000)) && this.rssMb() < maxRssMb;
    if (ok) return;
    await this.close();
    await this.start();
  }

  /** Replace the worker(s) of this server: a run that calls gc.get_objects is never reused. */
  async freshWorker(): Promise<void> {
    const before = this.restarts();
    await this.run('import gc\ngc.get_objects()\nNone');
    const deadline = Date.now() + 15_000;
    while (this.restarts() === before && Date.now() < deadline) await sleep(20);
    if (this.restarts() === before) {
      // The attack broke worker replacement itself: start over.
      await this.close();
      await this.start();
    }
  }

  restarts(): number {
    return this.server.stderr().split('\n').filter((l) => l.includes('"worker replaced"')).length;
  }

  status(field: 'VmRSS' | 'VmHWM'): number {
    try {
      const text = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) / 1024;
    } catch {
      return NaN;
    }
  }

  rssMb(): number {
    return this.status('VmRSS');
  }

  /** Reset the process's peak RSS (VmHWM) to its current RSS; false if the kernel refuses. */
  resetPeak(): boolean {
    try {
      fs.writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const pid = this.pid;
    try {
      await Promise.race([this.server?.close(), sleep(5000)]);
    } catch {
      /* already gone */
    }
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL'); // a frozen server must not outlive its test file
      } catch {
        /* exited */
      }
    }
  }
}

/** A TCP listener on 127.0.0.1 that records every connection it receives. */
export async function loopbackListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A fresh cache directory holding a copy of the shared start-up snapshot (if there is one yet). */
export function privateCacheDir(shared: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-sandbox-cache-'));
  const snapshots = path.join(shared, 'snapshots');
  if (fs.existsSync(snapshots)) fs.cpSync(snapshots, path.join(dir, 'snapshots'), { recursive: true });
  return dir;
}

/** Every file under `dir` with its size: a cache that Python changed shows a different listing. */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)} ${fs.statSync(p).size}`);
    }
  };
  walk(dir);
  return out.sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function secret(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}${Date.now() % 100000}`;
}

/**
 * Python: find the Pyodide API object (what `pyodide_js` was) anywhere in the interpreter's heap.
 * Sets `api` to it, or to None when it cannot be found (the sandbox then holds on this route).
 */
export const FIND_API = py`
  import gc as _gc
  api = None
  try:
      from _pyodide._importhook import JsLoader as _JsLoader
      for _o in _gc.get_objects():
          if isinstance(_o, _JsLoader):
              try:
                  if 'loadPackage' in dir(_o.jsproxy):
                      api = _o.jsproxy
                      break
              except Exception:
                  pass
  except Exception as _e:
      print('API search failed:', type(_e).__name__)
  print('API reachable' if api is not None else 'API unreachable')
`;

/** Python: `Obj` is JavaScript's Object constructor and `Fn` its Function, reached from a JsProxy. */
export const JS_INTRINSICS = py`
  from pyodide.ffi import to_js, create_proxy
  Obj = to_js([1]).__proto__.__proto__.constructor
  Fn = Obj.constructor
`;
