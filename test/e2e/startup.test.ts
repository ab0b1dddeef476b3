import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BIN_ENTRY } from '../helpers/server.js';

/**
 * Start-up as a user meets it, through the command package.json's bin names (build/bin.js):
 * --help and --version, flags checked together, settings people try first, a cache directory
 * that cannot be made, and a secret never shown back.
 */

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-startup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PACKAGE_CACHE_DIR: inject('cacheDir') });

/** Run the bin to completion (for the runs that must exit by themselves). */
async function runBin(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN_ENTRY, ...args], { env: { ...baseEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Start the bin as an MCP client does and run one call; returns the answer and the server's stderr. */
async function startAndRun(env: Record<string, string>) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN_ENTRY], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'startup-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    const r = await client.callTool({ name: 'execute_python', arguments: { code: 'print(6 * 7)' } }, undefined, { timeout: 120_000 });
    return { stdout: (r.structuredContent as { stdout: string }).stdout, stderr: () => stderr };
  } finally {
    await client.close();
  }
}

describe('--help and --version', () => {
  it('--help prints the usage, the options and every setting to stdout, and exits 0', async () => {
    const r = await runBin(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`mcp-python-executor ${pkg.version}:`);
    expect(r.stdout).toContain('Usage: mcp-python-executor [--stdio | --http [--port N] [--host H]]');
    for (const name of ['--http', '--port N', '--host H', '--version', 'EXECUTION_TIMEOUT_MS', 'LOG_LEVEL', 'MCP_AUTH_TOKEN']) {
      expect(r.stdout).toContain(name);
    }
  });

  it('--version prints the package, Python and Pyodide versions and exits 0', async () => {
    const r = await runBin(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^mcp-python-executor ${pkg.version.replace(/\./g, '\\.')} \\(Python 3\\.14\\.\\d+, Pyodide \\d+\\.\\d+\\.\\d+\\)\\n$`));
  });
});

describe('flags and settings checked before anything starts', () => {
  it('refuses --port without --http instead of serving stdio', async () => {
    const r = await runBin(['--port', '3000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('mcp-python-executor: Invalid configuration:\n  - --port only applies to HTTP: add --http (or set MCP_TRANSPORT=http)\n');
  });

  it('never echoes a bad MCP_AUTH_TOKEN', async () => {
    const r = await runBin(['--http'], { MCP_AUTH_TOKEN: 'hunter2-secret' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('mcp-python-executor: Invalid configuration:\n  - MCP_AUTH_TOKEN must be at least 16 characters (got 14 characters, not shown)\n');
  });

  it.skipIf(process.platform !== 'linux')('leaves no executor process behind (it is started while the settings are checked)', async () => {
    const cacheDir = fs.mkdtempSync(path.join(tmp, 'early-executor-'));
    const r = await runBin([], { PACKAGE_CACHE_DIR: cacheDir, MAX_MEMORY_MB: 'lots' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MAX_MEMORY_MB');
    // The executor runs with this cache directory in its flags: find any such process left.
    const real = fs.realpathSync(cacheDir);
    const leftOver = () =>
      fs.readdirSync('/proc').filter((pid) => {
        if (!/^\d+$/.test(pid)) return false;
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--allow-fs-write=${real}`);
        } catch {
          return false; // it ended while we looked
        }
      });
    const deadline = Date.now() + 10_000;
    while (leftOver().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(leftOver()).toEqual([]);
  });

  it('names an unknown option', async () => {
    const r = await runBin(['--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--verbose is not an option (options: --http, --stdio, --port, --host, --help, --version)');
  });
});

describe('start-up with the settings people try', () => {
  it('starts with LOG_LEVEL=warn and logs nothing below warn', async () => {
    const r = await startAndRun({ ...baseEnv(), LOG_LEVEL: 'warn', MAX_CONCURRENT_EXECUTIONS: '1' });
    expect(r.stdout).toBe('42\n');
    const levels = r.stderr().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { level: string }).level);
    expect(levels.filter((l) => l === 'info' || l === 'debug')).toEqual([]);
  });

  it('falls back to a private temporary cache, with a warning, when the cache directory cannot be made', async () => {
    // Like HOME=/nonexistent for a service user, but unmakeable even for root: HOME under a file.
    const home = path.join(tmp, 'a-file', 'home');
    fs.writeFileSync(path.join(tmp, 'a-file'), '');
    const tmpdir = fs.mkdtempSync(path.join(tmp, 'tmpdir-'));
    const r = await startAndRun({ PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmpdir, MAX_CONCURRENT_EXECUTIONS: '1' });
    expect(r.stdout).toBe('42\n');
    const warning = r
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; message: string; context?: { wanted: string; reason: string; using: string } })
      .find((line) => line.level === 'warn');
    const using = path.join(fs.realpathSync(tmpdir), `mcp-python-executor-${process.getuid?.() ?? ''}`);
    expect(warning?.message).toBe('cache directory unusable, using a temporary one: set PACKAGE_CACHE_DIR to a writable directory to keep the cache');
    expect(warning?.context?.wanted).toBe(path.join(home, '.cache', 'mcp-python-executor'));
    expect(warning?.context?.reason).toMatch(/ENOTDIR/);
    expect([warning?.context?.using, fs.realpathSync(warning?.context?.using ?? '/')]).toContain(using);
    expect(fs.readdirSync(using)).toContain('snapshots');
    expect(fs.statSync(using).mode & 0o777).toBe(0o700);
  });
});
