import type { RunOutcome } from '../runtime/execute.js';

/**
 * The contract between the main thread and the workers. Everything here crosses a structured
 * clone, so it is plain data: outcomes are values with a code, never thrown exceptions.
 */

export { CONTROL, STOP_REASON, TASK_STATE, createControlBlock, requestStop } from '../runtime/control.js';

/** A package a worker must have before it runs code, as the installer resolved and cached it. */
export type InstalledPackage = {
  name: string;
  version: string;
  /** Absolute path of the wheel in the cache; its sha256 is checked before a worker loads it. */
  file: string;
  sha256: string;
  /** Import names loaded right after installing, so they belong to the worker's clean state. */
  imports: string[];
};

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
  packages: InstalledPackage[];
};

export type WorkerTask = ExecuteTask;

export type ExecutionOutcome = RunOutcome & {
  worker: {
    threadId: number;
    executions: number;
  };
};

/** Shared by all workers: what each needs to start. */
export type WorkerData = {
  snapshot: Uint8Array;
  harnessSource: string;
  maxMemoryMb: number;
  /** Replace a worker whose memory grew past its start-up size by this much. */
  recycleGrowthMb: number;
  /** Replace a worker after this many executions (0: never). */
  maxExecutions: number;
  packages: { distDir?: string | undefined; cacheDir: string };
  network?: { allowedHosts: string[] } | undefined;
  mount?: { hostDir: string; mode: 'ro' | 'rw' } | undefined;
  /** One slot per thread id (modulo its length): a worker writes its id there before it retires. */
  retiring: Int32Array;
};

export const MOUNT_POINT = '/mnt/data';
export const WORKDIR = '/home/pyodide/work';
