#!/usr/bin/env node
// Benchmark of the built server (build/index.js), driven the way an MCP client drives it: the
// SDK's real Client over stdio. Prints one markdown table (metric, value, target) and the machine
// it ran on; `--json` prints the same results as one JSON object instead.
//
//   npm run bench                 # build, then run
//   node scripts/bench.mjs --json # results as JSON (progress still goes to stderr)
//
// Every server gets a minimal environment and a PACKAGE_CACHE_DIR in a temp directory (empty for
// the "first start ever", which makes the snapshot; that same directory is reused by all the
// others). A server's stderr (its logs) is kept in a buffer and printed only when something fails.
// Timings depend on the machine being otherwise idle: the CPU time of other processes is measured
// and shown next to the values it may have inflated.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVERYDAY } from './everyday.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_ENTRY = path.join(ROOT, 'build', 'index.js');
/** The plain main-thread Pyodide server every ratio is taken against (scripts/yardstick.mjs). */
const YARDSTICK_ENTRY = path.join(ROOT, 'scripts', 'yardstick.mjs');
/** The product's hops (front, executor process, worker thread) with no Python (scripts/relayFloor.mjs). */
const FLOOR_ENTRY = path.join(ROOT, 'scripts', 'relayFloor.mjs');
const JSON_OUT = process.argv.includes('--json');
const CORES = os.availableParallelism?.() ?? os.cpus().length;

/** Must match STOP_GRACE_MS in src/pool/stopper.ts. */
const STOP_GRACE_MS = 1000;

// Sizes (keep the whole run under ~3 minutes on 2 cores).
const COLD_RUNS = 5;
const WARM_WARMUP = 30;
const WARM_CALLS = 300;
const CPU_CALLS = 40;
const CPU_CONCURRENCY = 8;
const CPU_ROUNDS = 2;
const CPU_CODE = 'sum(i*i for i in range(300_000))';
const AFTER_TIMEOUT_CALLS = 20;
const INTERRUPT_RUNS = 5;
const SLEEP_CODE = 'import time; time.sleep(0.5)';
const EVERYDAY_CALLS = 1000;
const YARDSTICK_COLD_RUNS = 3;
const FAULT_RUNS = 4;
/** The everyday mix again with a pause before each call, as an agent's calls come (seconds apart, in fact). */
const PACED_CALLS = 200;
const PACE_MS = 25;

const log = (...args) => process.stderr.write(`[bench] ${args.join(' ')}\n`);

// ---------------------------------------------------------------------------------------------
// Servers

const tempDirs = [];
function tempDir(tag) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mcp-pyexec-bench-${tag}-`));
  tempDirs.push(dir);
  return dir;
}

const liveServers = new Set();

/** Spawn the built server and connect the SDK client. Returns timing of the spawn as `spawnedAt`. */
async function startServer(env, entry = SERVER_ENTRY) {
  const spawnedAt = performance.now();
  const spawnedAtWall = Date.now();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'mcp-python-executor-bench', version: '1.0.0' });
  const connectionErrors = [];
  client.onerror = (error) => connectionErrors.push(error);
  await client.connect(transport);
  // The processes this server runs in (the launcher and, on Node < 22, its child), for CPU accounting.
  const pids = [transport.pid, childPidOf(transport.pid)].filter(Boolean);

  const call = async (name, args = {}) =>
    client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });

  /** execute_python; returns structuredContent plus isError and the client-side round trip (ms). */
  const run = async (code, extra = {}) => {
    const t = performance.now();
    const result = await call('execute_python', { code, ...extra });
    const ms = performance.now() - t;
    return { ...(result.structuredContent ?? {}), isError: result.isError === true, ms, raw: result };
  };

  const server = {
    client,
    transport,
    spawnedAt,
    spawnedAtWall,
    pids,
    env,
    stderr: () => stderr,
    /** The server's JSON log lines, parsed. */
    logs: () =>
      stderr.split('\n').flatMap((line) => {
        try {
          return line.startsWith('{') ? [JSON.parse(line)] : [];
        } catch {
          return [];
        }
      }),
    connectionErrors,
    call,
    run,
    /** Run code and fail loudly unless it succeeded. */
    async ok(code, extra) {
      const r = await run(code, extra);
      if (r.isError || r.status !== 'success') {
        throw new BenchError(`expected success for ${JSON.stringify(code)}, got ${JSON.stringify(r.raw).slice(0, 800)}`, server);
      }
      return r;
    },
    /** pid of the process that runs the server (the launcher's child on Node < 22). */
    async realPid() {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const starting = server.logs().find((entry) => entry.message === 'starting');
        if (starting) return Number(starting.context?.pid ?? starting.pid);
        const child = childPidOf(transport.pid);
        if (child) return child;
        await sleep(50);
      }
      throw new BenchError('could not find the server pid', server);
    },
    async close() {
      liveServers.delete(server);
      await client.close().catch(() => {});
    },
  };
  liveServers.add(server);
  return server;
}

class BenchError extends Error {
  constructor(message, server) {
    super(message);
    this.server = server;
  }
}

function childPidOf(pid) {
  if (!pid) return null;
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (children) return Number(children.split(/\s+/)[0]);
    }
  } catch {
    /* no /proc children file: fall through */
  }
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) return Number(entry);
      } catch {
        /* process went away */
      }
    }
  } catch {
    /* no /proc */
  }
  return null;
}

/** CPU time (ms) used so far by a server's processes, all their threads, not counting this benchmark. */
function serverCpuMs(server) {
  let total = 0;
  for (const pid of processTree(server.transport.pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
      total += (f[11] + f[12]) * 10; // utime stime, in USER_HZ (100) ticks
    } catch {
      /* exited */
    }
  }
  return total;
}

/** A process and all its descendants (launcher, front, executor), by /proc's children lists. */
function processTree(pid) {
  if (!pid) return [];
  const out = [pid];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (children) for (const child of children.split(/\s+/)) out.push(...processTree(Number(child)));
    }
  } catch {
    /* gone, or no /proc */
  }
  return out;
}

function ownRssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return kb / 1024;
}
/** RSS of a server process and of the processes it started (the executor that runs Python). */
function rssMb(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += ownRssMb(p);
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Statistics

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await sleep(20);
}
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
const median = (values) => percentile(values, 50);
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function sequential(server, code, n, pauseMs = 0) {
  const times = [];
  for (let i = 0; i < n; i += 1) {
    if (pauseMs > 0) await sleep(pauseMs);
    times.push((await server.ok(code)).ms);
  }
  return times;
}

/** Run `total` calls with at most `concurrency` in flight; returns the wall time (ms). */
async function withConcurrency(server, code, total, concurrency) {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < total) {
      next += 1;
      await server.ok(code);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return performance.now() - started;
}

/** Make sure `n` workers are up: n slow calls at once (each needs its own worker). */
async function warmWorkers(server, n) {
  await Promise.all(Array.from({ length: n }, () => server.ok(SLEEP_CODE)));
}

async function poolStats(server) {
  const r = await server.call('health_check');
  return r.structuredContent?.pool ?? {};
}

// ---------------------------------------------------------------------------------------------
// Measurements

const results = {};

async function measureColdStarts() {
  const baseEnv = { MAX_CONCURRENT_EXECUTIONS: '2' };

  // First start ever: empty cache directory, so the snapshot is made.
  log('cold start, empty cache (the snapshot is made)…');
  const firstCache = tempDir('first');
  {
    const server = await startServer({ ...baseEnv, PACKAGE_CACHE_DIR: firstCache });
    await server.ok('print(1)');
    results.coldStartFirstEverMs = performance.now() - server.spawnedAt;
    const made = server.logs().find((entry) => entry.message === 'snapshot made');
    results.snapshotMakeMs = made?.context?.ms ?? null;
    await server.close();
  }
  const snapshots = fs.readdirSync(path.join(firstCache, 'snapshots')).filter((f) => f.endsWith('.bin'));
  if (snapshots.length === 0) throw new Error('the first start did not leave a snapshot in the cache directory');
  results.snapshotMb = fs.statSync(path.join(firstCache, 'snapshots', snapshots[0])).size / 2 ** 20;

  // Warm cache: the cache directory made above (a throw-away start already wrote the snapshot).
  const times = [];
  const parts = [];
  const coldLoad0 = cpuCounters();
  for (let i = 0; i < COLD_RUNS; i += 1) {
    log(`cold start, warm cache ${i + 1}/${COLD_RUNS}…`);
    const server = await startServer({ ...baseEnv, PACKAGE_CACHE_DIR: firstCache });
    const connectedAt = performance.now();
    await server.ok('print(1)');
    const done = performance.now();
    const doneWall = Date.now();
    times.push(done - server.spawnedAt);
    // Where the time goes, from the server's own log timestamps (ms resolution): both node
    // processes booting and loading modules, then the first worker (Pyodide from the snapshot
    // plus the harness), then the call itself.
    await waitFor(() => server.logs().some((e) => e.message === 'ready'), 5000);
    const at = (message) => Date.parse(server.logs().find((e) => e.message === message)?.time ?? '');
    const starting = at('starting');
    const ready = at('ready');
    parts.push({
      connectMs: connectedAt - server.spawnedAt,
      firstCallMs: done - connectedAt,
      bootMs: starting - server.spawnedAtWall,
      workerMs: ready - starting,
      afterReadyMs: doneWall - ready,
    });
    await server.close();
  }
  results.coldStartWarmCacheMs = {
    median: median(times),
    min: Math.min(...times),
    max: Math.max(...times),
    runs: times.map((t) => round(t)),
    otherLoadCores: otherLoad(coldLoad0, cpuCounters()),
  };
  const med = (key) => median(parts.map((p) => p[key]).filter(Number.isFinite));
  results.coldStartParts = {
    connectMedianMs: med('connectMs'),
    firstCallMedianMs: med('firstCallMs'),
    bootToStartingLogMs: med('bootMs'),
    startingToFirstWorkerReadyMs: med('workerMs'),
    readyToResultMs: med('afterReadyMs'),
  };
  return firstCache;
}

async function measureWarmAndCpu(cacheDir) {
  // Warm round trip, and CPU-bound concurrency with as many workers as cores.
  log(`warm round trip: ${WARM_CALLS} sequential print(1)…`);
  const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, MAX_CONCURRENT_EXECUTIONS: String(CORES) });
  await warmWorkers(server, CORES);
  await sequential(server, 'print(1)', WARM_WARMUP);
  const load0 = cpuCounters();
  const cpu0 = serverCpuMs(server);
  const warm = await sequential(server, 'print(1)', WARM_CALLS);
  results.warmCpuPerCallMs = (serverCpuMs(server) - cpu0) / WARM_CALLS;
  const warmLoad = otherLoad(load0, cpuCounters());
  const serverSide = [];
  // The server's own view of the same calls (durationMs is the pool's start-to-answer time).
  for (let i = 0; i < 50; i += 1) serverSide.push((await server.ok('print(1)')).durationMs);
  results.warmRoundTripMs = { p50: percentile(warm, 50), p95: percentile(warm, 95), p99: percentile(warm, 99), calls: WARM_CALLS, otherLoadCores: warmLoad };
  results.warmServerDurationMs = { p50: percentile(serverSide, 50), p95: percentile(serverSide, 95) };
  const paced = await sequential(server, 'print(1)', PACED_CALLS, PACE_MS);
  results.pacedPrintMs = { p50: percentile(paced, 50), p95: percentile(paced, 95) };

  const cpu = await measureCpu(server, CORES);
  results.cpu = { [CORES]: cpu };
  await server.close();

  // The same with the default pool size (5 workers on CORES cores).
  const server5 = await startServer({ PACKAGE_CACHE_DIR: cacheDir });
  await warmWorkers(server5, 5);
  results.cpu[5] = await measureCpu(server5, 5);
  await server5.close();
}

async function measureCpu(server, workers) {
  log(`CPU-bound: ${CPU_CALLS} × ${CPU_CODE}, MAX_CONCURRENT_EXECUTIONS=${workers}…`);
  // Warm-up: every worker runs the code a few times (the balancer spreads calls over the pool).
  await withConcurrency(server, CPU_CODE, 3 * workers, workers);
  const one = [];
  for (let i = 0; i < 5; i += 1) one.push((await server.ok(CPU_CODE)).durationMs);
  // Rounds alternate one-by-one and concurrent; the best of each is kept, which filters out
  // other load on the machine better than one long round would.
  const seq = [];
  const conc = [];
  const load0 = cpuCounters();
  for (let i = 0; i < CPU_ROUNDS; i += 1) {
    seq.push(await withConcurrency(server, CPU_CODE, CPU_CALLS, 1));
    conc.push(await withConcurrency(server, CPU_CODE, CPU_CALLS, CPU_CONCURRENCY));
  }
  const otherLoadCores = otherLoad(load0, cpuCounters());
  const sequentialMs = Math.min(...seq);
  const concurrentMs = Math.min(...conc);
  return {
    maxConcurrentExecutions: workers,
    oneCallMs: median(one),
    sequentialMs,
    concurrentMs,
    speedup: sequentialMs / concurrentMs,
    otherLoadCores,
    rounds: { sequentialMs: seq.map((x) => round(x)), concurrentMs: conc.map((x) => round(x)) },
  };
}

async function measureTimeouts(cacheDir) {
  const limit = 1000;
  const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, MAX_CONCURRENT_EXECUTIONS: String(CORES), EXECUTION_TIMEOUT_MS: String(limit) });
  await warmWorkers(server, CORES);
  await sequential(server, 'print(1)', WARM_WARMUP);

  const stopCase = async (name, code, repeats) => {
    log(`timeout: ${name} (${code}) ×${repeats}…`);
    // Baseline right before the case, so both sides see the same conditions on the machine.
    const before = await sequential(server, 'print(1)', AFTER_TIMEOUT_CALLS);
    const load0 = cpuCounters();
    const over = [];
    const stoppedBy = new Set();
    let r;
    for (let i = 0; i < repeats; i += 1) {
      r = await server.run(code);
      if (!r.isError || r.error?.code !== 'EXECUTION_TIMEOUT') {
        throw new BenchError(`expected EXECUTION_TIMEOUT for ${code}, got ${JSON.stringify(r.raw).slice(0, 800)}`, server);
      }
      over.push(r.ms - limit);
      stoppedBy.add(r.error?.details?.stoppedBy ?? null);
    }
    // The next calls are measured right after the last of them.
    const afterStart = performance.now();
    const after = await sequential(server, 'print(1)', AFTER_TIMEOUT_CALLS);
    const afterWall = performance.now() - afterStart;
    const otherLoadCores = otherLoad(load0, cpuCounters());
    const stats = await poolStats(server);
    return {
      overLimitMs: median(over),
      overLimitMaxMs: Math.max(...over),
      overLimitRunsMs: over.map((x) => round(x)),
      stoppedBy: [...stoppedBy].join(', '),
      beforeP50Ms: median(before),
      nextCallMs: after[0],
      nextP50Ms: median(after),
      nextP95Ms: percentile(after, 95),
      nextCallsWallMs: afterWall,
      workerRestarts: stats.workerRestarts,
      otherLoadCores,
    };
  };
  results.timeoutInterrupt = await stopCase('interrupt path', 'while True: pass', INTERRUPT_RUNS);
  // Let any background replacement finish so both cases start from the same state.
  await warmWorkers(server, CORES);
  results.timeoutTerminate = await stopCase('terminate path', 'sum(range(10**12))', 1);
  // Latency once the replacement worker is up again.
  await sleep(1500);
  await warmWorkers(server, CORES);
  results.timeoutTerminate.settledP50Ms = median(await sequential(server, 'print(1)', AFTER_TIMEOUT_CALLS));
  await server.close();
}

/** Each everyday snippet in turn, `calls` calls in all; round trips (ms) and how many failed. */
async function everydayMix(server, calls, pauseMs = 0) {
  const times = [];
  let failed = 0;
  for (let i = 0; i < calls; i += 1) {
    if (pauseMs > 0) await sleep(pauseMs);
    const r = await server.run(EVERYDAY[i % EVERYDAY.length]);
    if (r.isError || r.status !== 'success') failed += 1;
    times.push(r.ms);
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95), totalMs: times.reduce((a, b) => a + b, 0), calls, failed };
}

async function measureYardstick() {
  // The yardstick in the same run: a plain server with Pyodide on its main thread (no pool, no
  // sandbox, no isolation between calls), driven the same way.
  const cold = [];
  for (let i = 0; i < YARDSTICK_COLD_RUNS; i += 1) {
    log(`yardstick: cold start ${i + 1}/${YARDSTICK_COLD_RUNS}…`);
    const server = await startServer({}, YARDSTICK_ENTRY);
    await server.ok('print(1)');
    cold.push(performance.now() - server.spawnedAt);
    await server.close();
  }
  const server = await startServer({}, YARDSTICK_ENTRY);
  log(`yardstick: ${WARM_CALLS} × print(1), everyday mix ×${EVERYDAY_CALLS}…`);
  await sequential(server, 'print(1)', WARM_WARMUP);
  const cpu0 = serverCpuMs(server);
  const warm = await sequential(server, 'print(1)', WARM_CALLS);
  const warmCpuPerCallMs = (serverCpuMs(server) - cpu0) / WARM_CALLS;
  await everydayMix(server, EVERYDAY.length); // imports once, as a warm server would have them
  const cpu1 = serverCpuMs(server);
  const mix = await everydayMix(server, EVERYDAY_CALLS);
  const mixCpuPerCallMs = (serverCpuMs(server) - cpu1) / EVERYDAY_CALLS;
  const paced = await everydayMix(server, PACED_CALLS, PACE_MS);
  const pacedPrint = await sequential(server, 'print(1)', PACED_CALLS, PACE_MS);
  await server.close();
  results.yardstick = { coldStartMedianMs: median(cold), warmP50Ms: percentile(warm, 50), pacedPrintP50Ms: percentile(pacedPrint, 50), mix, paced, warmCpuPerCallMs, mixCpuPerCallMs };
}

async function measureFloor() {
  // What the hops alone cost: the product's process and thread layout answering without Python.
  log(`relay floor: ${WARM_CALLS} × print(1) back to back, ${PACED_CALLS} ${PACE_MS} ms apart…`);
  const server = await startServer({}, FLOOR_ENTRY);
  await sequential(server, 'print(1)', WARM_WARMUP);
  const warm = await sequential(server, 'print(1)', WARM_CALLS);
  const paced = await sequential(server, 'print(1)', PACED_CALLS, PACE_MS);
  await server.close();
  results.floor = { warmP50Ms: percentile(warm, 50), pacedP50Ms: percentile(paced, 50) };
}

async function measureEveryday(cacheDir) {
  log(`everyday mix: ${EVERYDAY.length} snippets, ${EVERYDAY_CALLS} calls, MAX_CONCURRENT_EXECUTIONS=2…`);
  const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, MAX_CONCURRENT_EXECUTIONS: '2' });
  await warmWorkers(server, 2);
  const before = await poolStats(server);
  const load0 = cpuCounters();
  const cpu0 = serverCpuMs(server);
  const mix = await everydayMix(server, EVERYDAY_CALLS);
  const cpuPerCallMs = (serverCpuMs(server) - cpu0) / EVERYDAY_CALLS;
  const otherLoadCores = otherLoad(load0, cpuCounters());
  log(`everyday mix with ${PACE_MS} ms between calls, ${PACED_CALLS} calls…`);
  results.everydayPaced = await everydayMix(server, PACED_CALLS, PACE_MS);
  const stats = await poolStats(server);
  await server.close();
  results.everyday = { ...mix, cpuPerCallMs, replacements: stats.workerRestarts - before.workerRestarts, restartsByReason: stats.restartsByReason, otherLoadCores };
}

async function measureFaultRecovery(cacheDir) {
  // A memory fault on one worker must not delay the next call another warm worker can serve.
  log(`fault recovery: bytearray(2**30) at MAX_MEMORY_MB=256, two workers, ×${FAULT_RUNS}…`);
  const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, MAX_CONCURRENT_EXECUTIONS: '2', MAX_MEMORY_MB: '256' });
  await warmWorkers(server, 2);
  const before = await sequential(server, 'print(6*7)', AFTER_TIMEOUT_CALLS);
  const next = [];
  for (let i = 0; i < FAULT_RUNS; i += 1) {
    const fault = await server.run('x = bytearray(2**30)');
    if (fault.error?.code !== 'MEMORY_LIMIT_EXCEEDED') throw new BenchError(`expected MEMORY_LIMIT_EXCEEDED, got ${JSON.stringify(fault.raw).slice(0, 600)}`, server);
    next.push((await server.ok('print(6*7)')).ms);
    await sleep(300);
  }
  await server.close();
  results.faultRecovery = { beforeP50Ms: median(before), nextMs: next.map((x) => round(x, 2)), nextMaxMs: Math.max(...next) };
}

/** What one answer weighs when the code prints a lot: 2 MiB to each stream (README: Output size). */
async function measureOutputSize(cacheDir) {
  log('output size: 2 MiB to stdout and to stderr…');
  const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, MAX_CONCURRENT_EXECUTIONS: '1' });
  const code = "import sys\nchunk = 'x' * 1023 + '\\n'\nfor _ in range(2048):\n    sys.stdout.write(chunk)\n    sys.stderr.write(chunk)";
  const cut = await server.ok(code);
  const full = await server.ok(code, { fullOutput: true });
  const small = await server.ok("print('hello')");
  await server.close();
  const bytes = (r) => Buffer.byteLength(JSON.stringify(r.raw));
  results.outputSize = { printedBytes: cut.stdoutBytes + cut.stderrBytes, answerBytes: bytes(cut), fullOutputBytes: bytes(full), helloBytes: bytes(small) };
}

async function measureRss(cacheDir) {
  const sample = async (workers) => {
    log(`RSS with MAX_CONCURRENT_EXECUTIONS=${workers}…`);
    const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, MAX_CONCURRENT_EXECUTIONS: String(workers) });
    await server.ok('print(1)');
    await Promise.all(Array.from({ length: 4 }, () => server.ok(SLEEP_CODE)));
    await sequential(server, 'print(1)', 10);
    const stats = await poolStats(server);
    if (stats.workers !== workers) throw new BenchError(`expected ${workers} workers, the pool has ${stats.workers}`, server);
    await sleep(500);
    const pid = await server.realPid();
    const launcherPid = server.transport.pid;
    const rss = rssMb(pid);
    const launcherRss = launcherPid !== pid ? ownRssMb(launcherPid) : 0;
    await server.close();
    return { pid, rss, launcherPid, launcherRss, sameProcess: launcherPid === pid };
  };
  const one = await sample(1);
  const four = await sample(4);
  results.rss = {
    oneWorkerMb: one.rss,
    fourWorkersMb: four.rss,
    perWorkerMb: (four.rss - one.rss) / 3,
    launcherMb: four.launcherRss,
    relaunch: four.sameProcess ? 'execve (same pid)' : 'spawn (child pid)',
  };
}

/**
 * What a server holds with nothing to do (every MCP client starts one of its own): after start-up
 * with no call at all, then at the peak of a burst of MAX_CONCURRENT_EXECUTIONS slow calls, then once the
 * extra workers have gone (WORKER_IDLE_TIMEOUT_MS shortened to IDLE_TIMEOUT_MS for the run).
 */
const IDLE_WAIT_MS = 10_000;
const IDLE_TIMEOUT_MS = 5_000;
async function measureIdle(cacheDir) {
  log(`idle footprint: default pool, ${IDLE_WAIT_MS / 1000} s without a call, a burst, then ${IDLE_TIMEOUT_MS / 1000} s idle…`);
  const server = await startServer({ PACKAGE_CACHE_DIR: cacheDir, WORKER_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) });
  const pid = await server.realPid();
  // From the moment the first worker is up (the start-up itself is measured above).
  for (let i = 0; i < 240 && !(await poolStats(server)).workers; i += 1) await sleep(250);
  await sleep(IDLE_WAIT_MS);
  const idle = { workers: (await poolStats(server)).workers, rssMb: rssMb(pid) };
  const max = (await poolStats(server)).maxWorkers;
  let done = false;
  const burst = Promise.all(Array.from({ length: max }, () => server.ok('import time; time.sleep(3)'))).finally(() => (done = true));
  const peak = { workers: 0, rssMb: 0 };
  while (!done) {
    peak.workers = Math.max(peak.workers, (await poolStats(server)).workers);
    peak.rssMb = Math.max(peak.rssMb, rssMb(pid));
    await sleep(100);
  }
  await burst;
  const shrinkStarted = performance.now();
  let workers = (await poolStats(server)).workers;
  while (workers > 1 && performance.now() - shrinkStarted < IDLE_TIMEOUT_MS + 15_000) {
    await sleep(250);
    workers = (await poolStats(server)).workers;
  }
  await sleep(500);
  const after = { workers, rssMb: rssMb(pid), afterMs: performance.now() - shrinkStarted };
  await server.close();
  results.idle = { idle, peak, after, maxWorkers: max };
}

// ---------------------------------------------------------------------------------------------
// Report

/** Machine-wide CPU time (ms, all cores) and this process tree's own CPU time (ms, reaped children included). */
function cpuCounters() {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const tick = 10; // USER_HZ is 100 on Linux
    const [user, nice, system, , , irq, softirq, steal] = fields;
    const machineBusy = (user + nice + system + irq + softirq + steal) * tick;
    // This process, the servers it has reaped (cutime, cstime) and the servers still running.
    const processCpu = (pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
        return (f[11] + f[12] + f[13] + f[14]) * tick; // utime stime cutime cstime
      } catch {
        return 0; // exited between the listing and the read
      }
    };
    let own = processCpu('self');
    for (const server of liveServers) for (const pid of processTree(server.transport.pid)) own += processCpu(pid);
    return { machineBusy, own, at: performance.now() };
  } catch {
    return null;
  }
}

/** Average cores busy with work that is not this benchmark's, between two counters. */
function otherLoad(a, b) {
  if (!a || !b) return null;
  return Math.max(0, (b.machineBusy - a.machineBusy - (b.own - a.own)) / (b.at - a.at));
}

function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux */
  }
  return {
    cpu,
    cores: CORES,
    ramGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

function loadNote() {
  const { otherLoadBeforeCores: before, otherLoadDuringCores: during } = results;
  if (before == null || during == null) return 'Other load on the machine: unknown (no /proc/stat).';
  const busy = Math.max(before, during) > 0.25 * CORES;
  return `Other load on the machine (CPU not used by this benchmark): ${before.toFixed(2)} cores busy just before, ${during.toFixed(2)} on average during the run${busy ? ' — **the machine was not idle; timings are inflated**' : ''}.`;
}

/** Records a target's outcome in results.checks and returns its label for the table. */
/** A warning for a value measured while something else kept the machine busy. */
const loadTag = (cores) => (cores != null && cores >= 0.2 ? ` ⚠ other load ${cores.toFixed(2)} cores` : '');

const verdict = (name, pass) => {
  results.checks ??= {};
  results.checks[name] = pass;
  return pass ? 'pass' : '**FAIL**';
};
const ms = (x) => `${round(x, x < 10 ? 2 : 0)} ms`;

function table() {
  const r = results;
  const rows = [];
  const add = (metric, value, target = '—') => rows.push([metric, value, target]);

  const cold = r.coldStartWarmCacheMs;
  add(
    `Cold start, warm snapshot cache (spawn → first \`print(1)\` result), median of ${COLD_RUNS}`,
    `${ms(cold.median)} (min ${ms(cold.min)}, max ${ms(cold.max)}; connect ${ms(r.coldStartParts.connectMedianMs)} + first call ${ms(r.coldStartParts.firstCallMedianMs)})${loadTag(cold.otherLoadCores)}`,
    `≤ 1000 ms: ${verdict('coldStart', cold.median <= 1000)}`,
  );
  const cp = r.coldStartParts;
  add(
    '… where it goes (medians, from the server log timestamps)',
    `launcher + server process boot and imports ${ms(cp.bootToStartingLogMs)}; snapshot read + first worker (Pyodide restore, harness) ${ms(cp.startingToFirstWorkerReadyMs)}; ready → result ${ms(cp.readyToResultMs)}`,
  );
  add(
    'Cold start, first start ever (empty cache: the snapshot is made)',
    `${ms(r.coldStartFirstEverMs)}${r.snapshotMakeMs != null ? ` (snapshot made in ${ms(r.snapshotMakeMs)}, ${round(r.snapshotMb)} MiB)` : ''}`,
    'README: about 6 s',
  );
  add(
    `Warm round trip \`print(1)\`, p50 (${r.warmRoundTripMs.calls} sequential calls)`,
    `${ms(r.warmRoundTripMs.p50)}${loadTag(r.warmRoundTripMs.otherLoadCores)}`,
    `≤ 2 ms: ${verdict('warmP50', r.warmRoundTripMs.p50 <= 2)}`,
  );
  add('Warm round trip `print(1)`, p95 / p99', `${ms(r.warmRoundTripMs.p95)} / ${ms(r.warmRoundTripMs.p99)}`);
  add('Warm `print(1)`, server-side durationMs p50 / p95', `${ms(r.warmServerDurationMs.p50)} / ${ms(r.warmServerDurationMs.p95)}`);

  for (const [workers, c] of Object.entries(r.cpu)) {
    const target = Math.min(CORES, Number(workers));
    const pass = c.speedup >= 0.8 * target;
    add(
      `${CPU_CALLS} × \`${CPU_CODE}\` (one call ≈ ${ms(c.oneCallMs)}), MAX_CONCURRENT_EXECUTIONS=${workers}: one by one → ${CPU_CONCURRENCY} at a time`,
      `${ms(c.sequentialMs)} → ${ms(c.concurrentMs)}: speed-up ×${round(c.speedup, 2)}${loadTag(c.otherLoadCores)}`,
      `close to ×${target} (cores; ≥ ×${round(0.8 * target, 2)}): ${verdict(`speedup${workers}`, pass)}`,
    );
  }

  const nextTarget = (name, p50, base) => {
    const limit = Math.max(base * 1.5, base + 1);
    return `≤ ${ms(limit)} (before: p50 ${ms(base)}): ${verdict(name, p50 <= limit)}`;
  };
  const ti = r.timeoutInterrupt;
  add(
    `Timeout 1000 ms, \`while True: pass\` (interrupt): response − limit, median (max) of ${INTERRUPT_RUNS}`,
    `${ms(ti.overLimitMs)} (${ms(ti.overLimitMaxMs)}; runs: ${ti.overLimitRunsMs.join(', ')} ms; stopped by ${ti.stoppedBy})`,
    `stopped by the interrupt, well under the grace period (${STOP_GRACE_MS} ms): ${verdict('interruptStop', ti.stoppedBy === 'interrupt' && ti.overLimitMaxMs < STOP_GRACE_MS / 2)}`,
  );
  add(
    '… next calls after it: first call; p50 / p95 of next ' + AFTER_TIMEOUT_CALLS,
    `${ms(ti.nextCallMs)}; ${ms(ti.nextP50Ms)} / ${ms(ti.nextP95Ms)}${loadTag(ti.otherLoadCores)}`,
    nextTarget('afterInterrupt', ti.nextP50Ms, ti.beforeP50Ms),
  );
  const tt = r.timeoutTerminate;
  add(
    'Timeout 1000 ms, `sum(range(10**12))` (terminate): response − limit',
    `${ms(tt.overLimitMs)} (stopped by ${tt.stoppedBy})`,
    `≈ STOP_GRACE_MS (${STOP_GRACE_MS} ms)`,
  );
  add(
    '… next calls after it: first call; p50 / p95 of next ' + AFTER_TIMEOUT_CALLS + '; p50 once the replacement is up',
    `${ms(tt.nextCallMs)}; ${ms(tt.nextP50Ms)} / ${ms(tt.nextP95Ms)}; ${ms(tt.settledP50Ms)}${loadTag(tt.otherLoadCores)}`,
    nextTarget('afterTerminate', tt.nextP50Ms, tt.beforeP50Ms),
  );

  const y = r.yardstick;
  const ev = r.everyday;
  add(
    'Yardstick (scripts/yardstick.mjs: Pyodide on the main thread, same SDK, no sandbox or isolation), same run: cold start median / warm `print(1)` p50 / everyday mix p50',
    `${ms(y.coldStartMedianMs)} / ${ms(y.warmP50Ms)} / ${ms(y.mix.p50)}`,
  );
  add(
    `Warm \`print(1)\` ${PACE_MS} ms apart (${PACED_CALLS} calls; agents' calls come seconds apart), p50: server / yardstick / relay floor`,
    `${ms(r.pacedPrintMs.p50)} / ${ms(y.pacedPrintP50Ms)} / ${ms(r.floor.pacedP50Ms)}; ×${round(r.pacedPrintMs.p50 / y.pacedPrintP50Ms, 2)} the yardstick`,
  );
  add(
    `Relay floor (scripts/relayFloor.mjs: the same front → executor process → worker thread hops and SDK, no Python), same run: warm \`print(1)\` p50 back to back / ${PACE_MS} ms apart`,
    `${ms(r.floor.warmP50Ms)} / ${ms(r.floor.pacedP50Ms)}`,
  );
  add(
    'Cold start against the yardstick',
    `×${round(y.coldStartMedianMs / cold.median, 2)} faster`,
    `≥ ×2.5 faster: ${verdict('coldVsYardstick', y.coldStartMedianMs / cold.median >= 2.5)}`,
  );
  add(
    'Warm `print(1)` p50 against the yardstick',
    `${ms(r.warmRoundTripMs.p50)} vs ${ms(y.warmP50Ms)} (×${round(r.warmRoundTripMs.p50 / y.warmP50Ms, 2)})`,
    `no slower (aim ≤ 1 ms): ${verdict('warmVsYardstick', r.warmRoundTripMs.p50 <= y.warmP50Ms)}`,
  );
  add(
    `Everyday mix (${EVERYDAY.length} standard-library snippets, ${ev.calls} sequential calls, MAX_CONCURRENT_EXECUTIONS=2): p50 / p95 / total`,
    `${ms(ev.p50)} / ${ms(ev.p95)} / ${ms(ev.totalMs)} (yardstick ${ms(y.mix.p50)} / ${ms(y.mix.p95)} / ${ms(y.mix.totalMs)}); p50 ×${round(ev.p50 / y.mix.p50, 2)}${loadTag(ev.otherLoadCores)}`,
    `p50 within ×2 of the yardstick: ${verdict('everydayP50', ev.p50 <= 2 * y.mix.p50 && ev.failed === 0)}`,
  );
  const paced = r.everydayPaced;
  add(
    `Everyday mix with ${PACE_MS} ms between calls (${paced.calls} calls; the reset then runs between calls, off the answer's path): p50 / p95`,
    `${ms(paced.p50)} / ${ms(paced.p95)} (yardstick ${ms(y.paced.p50)} / ${ms(y.paced.p95)}); p50 ×${round(paced.p50 / y.paced.p50, 2)}; failed calls ${paced.failed}`,
  );
  add(
    'CPU per call, all server processes and threads (the client excluded): warm `print(1)` / everyday mix',
    `${ms(r.warmCpuPerCallMs)} / ${ms(ev.cpuPerCallMs)} (yardstick ${ms(y.warmCpuPerCallMs)} / ${ms(y.mixCpuPerCallMs)}); sequential calls on ${CORES} cores cannot answer faster than about this ÷ ${CORES}`,
  );
  add(
    '… worker replacements during the mix',
    `${ev.replacements}${ev.replacements ? ` (${JSON.stringify(ev.restartsByReason)})` : ''}; failed calls ${ev.failed}`,
    `0: ${verdict('everydayReplacements', ev.replacements === 0)}`,
  );
  const fr = r.faultRecovery;
  add(
    `\`bytearray(2**30)\` at MAX_MEMORY_MB=256 (MEMORY_LIMIT_EXCEEDED), two workers: next \`print(6*7)\`, ${FAULT_RUNS} times`,
    `${fr.nextMs.join(', ')} ms (before: p50 ${ms(fr.beforeP50Ms)})`,
    `never waits for a worker start (each ≤ 100 ms): ${verdict('faultRecovery', fr.nextMaxMs <= 100)}`,
  );

  const out = r.outputSize;
  add(
    'Answer size (JSON of the whole result), 2 MiB printed to stdout and 2 MiB to stderr: default / with `fullOutput: true`',
    `${round(out.answerBytes / 1024)} KiB / ${round(out.fullOutputBytes / 2 ** 20)} MiB (a \`print('hello')\` answer: ${out.helloBytes} B)`,
    `about twice OUTPUT_BUDGET_BYTES (32 KiB) plus the envelope: ${verdict('outputSize', out.answerBytes <= 2 * 32768 + 4096)}`,
  );

  const rss = r.rss;
  add('Server RSS, MAX_CONCURRENT_EXECUTIONS=1 / =4 (all workers warm)', `${round(rss.oneWorkerMb)} MiB / ${round(rss.fourWorkersMb)} MiB`);
  add(
    'RSS per warm worker ((rss4 − rss1) / 3)',
    `${round(rss.perWorkerMb)} MiB${rss.launcherMb ? ` (plus ${round(rss.launcherMb)} MiB for the launcher process, ${rss.relaunch})` : ''}`,
  );

  const idle = r.idle;
  add(
    `Idle server (default pool of ${idle.maxWorkers}), ${IDLE_WAIT_MS / 1000} s after its first worker was up, no call: workers, RSS`,
    `${idle.idle.workers} worker, ${round(idle.idle.rssMb)} MiB`,
    `one warm worker: ${verdict('idleWorkers', idle.idle.workers === 1)}`,
  );
  add(
    `… at the peak of ${idle.maxWorkers} slow calls at once, then after WORKER_IDLE_TIMEOUT_MS (${IDLE_TIMEOUT_MS / 1000} s here)`,
    `${idle.peak.workers} workers, ${round(idle.peak.rssMb)} MiB → ${idle.after.workers} worker, ${round(idle.after.rssMb)} MiB (${round(idle.after.afterMs / 1000, 1)} s after the burst)`,
    `grows to the limit and shrinks back: ${verdict('idleShrink', idle.peak.workers === idle.maxWorkers && idle.after.workers === 1)}`,
  );

  const esc = (s) => String(s).replace(/\|/g, '\\|');
  return ['| metric | value | target |', '|---|---|---|', ...rows.map((row) => `| ${row.map(esc).join(' | ')} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!fs.existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` (or \`npm run bench\`)`);
  const idle0 = cpuCounters();
  await sleep(1000);
  const idle1 = cpuCounters();
  results.otherLoadBeforeCores = otherLoad(idle0, idle1);
  const started = performance.now();
  const cacheDir = await measureColdStarts();
  await measureWarmAndCpu(cacheDir);
  await measureTimeouts(cacheDir);
  await measureEveryday(cacheDir);
  await measureFaultRecovery(cacheDir);
  await measureYardstick();
  await measureFloor();
  await measureOutputSize(cacheDir);
  await measureRss(cacheDir);
  await measureIdle(cacheDir);
  results.benchSeconds = (performance.now() - started) / 1000;
  results.otherLoadDuringCores = otherLoad(idle1, cpuCounters());
  results.machine = machine();

  const markdown = table(); // also fills results.checks
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    const m = results.machine;
    process.stdout.write(
      [
        `## mcp-python-executor benchmark`,
        '',
        `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.platform}; ${m.date}`,
        '',
        loadNote(),
        '',
        markdown,
        '',
        `(bench took ${round(results.benchSeconds)} s)`,
        '',
      ].join('\n'),
    );
  }
}

function cleanup() {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}

main()
  .then(async () => {
    cleanup();
  })
  .catch(async (error) => {
    process.stderr.write(`\nbench failed: ${error?.stack ?? error}\n`);
    const servers = error?.server ? [error.server, ...[...liveServers].filter((s) => s !== error.server)] : [...liveServers];
    for (const server of servers) {
      process.stderr.write(`\n--- server stderr (${JSON.stringify(server.env)}) ---\n${server.stderr()}\n`);
      if (server.connectionErrors.length) process.stderr.write(`connection errors: ${server.connectionErrors.map(String).join('; ')}\n`);
    }
    await Promise.all([...liveServers].map((s) => s.close()));
    cleanup();
    process.exitCode = 1;
  });
