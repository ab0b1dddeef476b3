import type { MessagePort } from 'node:worker_threads';
import type { RunOutcome } from '../runtime/execute.js';
import type { InputFile, OutputLimits } from '../runtime/files.js';
import type { PackageRecord } from '../runtime/packages.js';
import type { PackageSource } from '../runtime/pyodide.js';

/**
 * The contract between the main thread and the workers. Everything here crosses a structured
 * clone, so it is plain data: outcomes are values with a code, never thrown exceptions.
 */

export { CONTROL, RESET_WAIT_MS, SIGINT, STOP_REASON, TASK_STATE, createControlBlock, markTaken, requestStop } from '../runtime/control.js';

export type { PackageRecord };

export type ExecuteTask = {
  kind: 'execute';
  executionId: string;
  code: string;
  stdin: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  /** The control block's buffer: a SharedArrayBuffer, shared with the worker, not copied. */
  control: SharedArrayBuffer;
  /** Every package installed so far, in install order; a worker installs those it lacks first. */
  packages: PackageRecord[];
  /** Where the worker streams output while the code runs (only when someone listens). */
  outputPort?: MessagePort | undefined;
  files?: InputFile[] | undefined;
  outputs: OutputLimits;
};

/** A batch of live output, posted at most every OUTPUT_FLUSH_MS while code runs. */
/** The captured output of a run that never ran (or was lost with its worker). */
export const NO_OUTPUT = Object.freeze({ text: '', bytes: 0, truncated: false });

export type OutputMessage = { stdout: string; stderr: string; stdoutBytes: number; stderrBytes: number; final: boolean };
export const OUTPUT_FLUSH_MS = 100;

/** Start (or bring up to date) a worker without running anything. */
export type PingTask = { kind: 'ping'; packages: PackageRecord[] };

/** A session's worker: put the interpreter back to its reset point (reset_session). */
export type ResetTask = { kind: 'reset'; packages: PackageRecord[] };

export type WorkerTask = ExecuteTask | PingTask | ResetTask;

export type ExecutionOutcome = RunOutcome & {
  /** The worker was retired before this task started: the pool runs it on another. */
  refused?: string;
  /** With `refused`: the worker never started (the reason says why); the pool replaces it. */
  startFailed?: boolean;
  worker: {
    threadId: number;
    executions: number;
  };
};

/** Shared by all workers: what each needs to start. */
export type WorkerData = {
  /** Pyodide's WebAssembly, already compiled (undefined: the worker compiles it). */
  wasm?: WebAssembly.Module | undefined;
  snapshot: Uint8Array;
  /** Whether `snapshot` has been read in full yet (see Snapshot in snapshot.ts). */
  snapshotReady: Int32Array;
  harnessSource: string;
  maxMemoryMb: number;
  /** Replace a worker whose memory grew past its start-up size by this much. */
  recycleGrowthMb: number;
  /** Replace a worker after this many executions (0: never). */
  maxExecutions: number;
  packages: PackageSource;
  network?: { allowedHosts: string[] } | undefined;
  mount?: { hostDir: string; mode: 'ro' | 'rw' } | undefined;
  /** One slot per thread id (modulo its length): a worker writes its id there before it retires. */
  retiring: Int32Array;
  /** A session's worker: state stays between calls (see ExecutorOptions.session). */
  session: boolean;
};

export const MOUNT_POINT = '/mnt/data';
export const WORKDIR = '/home/pyodide/work';
