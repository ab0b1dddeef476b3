import type { Config } from '../config.js';
import { ExecutorError } from '../errors.js';
import type { ExecuteRequest, PoolStats } from '../pool/executorPool.js';
import type { SessionManager, SessionRunResult } from '../sessions/sessionManager.js';
import type { PackagesApi, PoolApi } from '../server/executorApi.js';
import type { ExecutorClient } from './executorClient.js';

/**
 * The pool, sessions and packages as the tool handlers know them, served by the executor process
 * through its client. Figures the handlers read at once (health_check) come from the state the
 * executor pushes with every answer and every second.
 */

export function remotePool(client: ExecutorClient, config: Config): PoolApi {
  const empty: PoolStats = {
    workers: 0,
    maxWorkers: config.maxConcurrentExecutions,
    busy: 0,
    queued: 0,
    maxQueue: config.maxQueueSize,
    workerRestarts: 0,
    restartsByReason: {},
    startFailures: 0,
  };
  return {
    run: (request) => client.run(request),
    stats: () => ({ ...(client.state()?.stats ?? empty), ...client.crashes() }),
  };
}

export function remotePackages(client: ExecutorClient): PackagesApi {
  return {
    install: (packages) => client.call('install', [...packages]),
    installed: () => client.state()?.installed ?? [],
    problems: () => client.state()?.problems ?? [],
  };
}

/** Sessions seen by one owner; `owner` undefined is the server's own view (all of them). */
export function remoteSessions(client: ExecutorClient, config: Config, owner?: string): SessionManager {
  const { lost, living } = client.sessions;
  const mine = (o: string | undefined) => owner === undefined || o === owner;
  /** A session of a process that died answers its next call once, with this. */
  const takeLost = (id: string): ExecutorError | undefined => {
    const entry = lost.get(id);
    if (!entry || entry.owner !== owner) return undefined;
    lost.delete(id);
    return new ExecutorError(
      'INTERNAL_ERROR',
      `Session '${id}' was lost: the Python process ended (${entry.cause}); create a new session and run its set-up again`,
      { details: { reason: 'SESSION_LOST', sessionId: id, cause: entry.cause } },
    );
  };
  const view: SessionManager = {
    get enabled() {
      return config.maxSessions > 0;
    },
    async create() {
      const info = await client.call('createSession', owner ?? '');
      living.set(info.sessionId, owner ?? '');
      return info;
    },
    async run(id: string, request: ExecuteRequest): Promise<SessionRunResult> {
      const gone = takeLost(id);
      if (gone) {
        const error = gone.toInfo();
        const none = { text: '', bytes: 0, truncated: false };
        return { ok: false, stdout: none, stderr: none, result: null, error, durationMs: 0, memory: { wasmMb: 0, grewMb: 0 }, files: [], elapsedMs: 0, queuedMs: 0, workerRestarted: true, sessionState: 'lost' };
      }
      return (await client.run(request, { id, owner: owner ?? '' })) as SessionRunResult;
    },
    async reset(id) {
      const gone = takeLost(id);
      if (gone) throw gone;
      return client.call('resetSession', owner ?? '', id);
    },
    async close(id) {
      if (takeLost(id)) return true;
      const closed = await client.call('closeSession', owner ?? '', id);
      if (closed) living.delete(id);
      return closed;
    },
    list: () => view.listWithOwners().map(({ owner: _, ...info }) => info),
    listWithOwners: () => (client.state()?.sessions ?? []).filter((s) => mine(s.owner)),
    count: () => client.state()?.sessions.length ?? 0,
    async closeAll() {
      for (const [id, entry] of lost) if (mine(entry.owner)) lost.delete(id);
      const ids = [...living].filter(([, o]) => mine(o)).map(([id]) => id);
      await Promise.allSettled(ids.map((id) => (owner === undefined ? Promise.resolve(false) : view.close(id))));
    },
    forOwner: (o) => remoteSessions(client, config, o),
  };
  return view;
}
