import type { Config } from '../config.js';
import type { ErrorInfo } from '../errors.js';
import type { InstallOutcome, PackageVersion } from '../packages/packageManager.js';
import type { ExecuteRequest, PoolResult, PoolStats } from '../pool/executorPool.js';
import type { OutputMessage } from '../pool/messages.js';
import type { SessionInfo } from '../sessions/sessionManager.js';

/**
 * The front ↔ executor contract, over the IPC channel of a forked process (serialization
 * 'advanced': typed arrays such as output files cross as they are). Values, never exceptions:
 * a failure crosses as ErrorInfo and is rebuilt as an ExecutorError on the other side.
 */

/** A run as it crosses: the front keeps the signal and the output callback, and sends flags. */
export type RunRequest = Omit<ExecuteRequest, 'signal' | 'onOutput'> & { live: boolean };

/** Calls other than runs, by name, with their arguments and answers. */
export type CallMap = {
  ready: { args: []; value: void };
  packagesReady: { args: []; value: void };
  install: { args: [packages: string[]]; value: InstallOutcome };
  createSession: { args: [owner: string]; value: SessionInfo };
  resetSession: { args: [owner: string, sessionId: string]; value: SessionInfo };
  closeSession: { args: [owner: string, sessionId: string]; value: boolean };
};
export type CallName = keyof CallMap;

/** What the front needs to answer at once (health_check, /healthz), pushed by the executor. */
export type ExecutorState = {
  stats: PoolStats;
  installed: PackageVersion[];
  problems: string[];
  sessions: (SessionInfo & { owner: string | undefined })[];
};

export type ToExecutor =
  /**
   * The front's validated settings, without the bearer token, the first message and only once:
   * the executor neither validates them again nor loads zod (a tenth of a second of every start).
   */
  | { t: 'settings'; config: Config }
  | { t: 'run'; id: number; request: RunRequest; sessionId?: string | undefined; owner?: string | undefined }
  | { t: 'cancel'; id: number }
  | { t: 'call'; id: number; name: CallName; args: unknown[] }
  | { t: 'close' };

export type FromExecutor =
  /** Loaded, and waiting for its settings (it is forked before the front has checked them). */
  | { t: 'listening' }
  | { t: 'hello'; pid: number }
  | { t: 'output'; id: number; batch: OutputMessage }
  | { t: 'done'; id: number; value: unknown; state: ExecutorState }
  | { t: 'failed'; id: number; error: ErrorInfo; state: ExecutorState }
  | { t: 'state'; state: ExecutorState };

export type RunAnswer = PoolResult & { sessionState?: 'kept' | 'lost' };
