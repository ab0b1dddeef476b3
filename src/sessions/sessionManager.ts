import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { ExecutorError } from '../errors.js';
import type { Logger } from '../logging.js';
import { createExecutorPool, type ExecuteRequest, type ExecutorPool, type PoolDeps, type PoolResult } from '../pool/executorPool.js';

/**
 * Sessions: a worker of their own whose variables, imports and files stay from call to call, for
 * the clients that ask for one (create_session). Each is a pool of one worker, so a session's calls
 * run one at a time, in order, under the same limits as any call; sessions never share a worker.
 * A timeout the interrupt stops, or a MemoryError, keeps the session's state; one that needs the
 * worker replaced loses it, and the result says which.
 */

export type SessionInfo = {
  sessionId: string;
  ageMs: number;
  idleMs: number;
  executions: number;
  running: boolean;
  memoryMb: number;
  /** How many times the state was lost (worker replaced) or reset. */
  restarts: number;
};

export type SessionRunResult = PoolResult & { sessionState: 'kept' | 'lost' };

export type SessionManager = {
  readonly enabled: boolean;
  create(): Promise<SessionInfo>;
  run(sessionId: string, request: ExecuteRequest): Promise<SessionRunResult>;
  reset(sessionId: string): Promise<SessionInfo>;
  close(sessionId: string): Promise<boolean>;
  list(): SessionInfo[];
  /** Every session with the client that owns it (what the executor process reports to the front). */
  listWithOwners(): (SessionInfo & { owner: string | undefined })[];
  /** Sessions open on the server, whoever made them. */
  count(): number;
  closeAll(): Promise<void>;
  /**
   * The same sessions as seen by one client (an MCP connection): it can create sessions and use,
   * list and close only its own; another client's session id is answered as unknown.
   */
  forOwner(owner: string): SessionManager;
};

type Session = {
  id: string;
  pool: ExecutorPool;
  created: number;
  lastUsed: number;
  executions: number;
  running: number;
  memoryMb: number;
  restarts: number;
  expiry: NodeJS.Timeout | undefined;
  /** The session's calls, one after another in the order they came. */
  turn: Promise<unknown>;
  /** The client that created it; undefined when made through the unscoped manager. */
  owner: string | undefined;
};

export type SessionDeps = Omit<PoolDeps, 'config' | 'session'> & { config: Config; logger: Logger };

export function createSessionManager(deps: SessionDeps): SessionManager {
  const { config, logger } = deps;
  const sessions = new Map<string, Session>();
  const poolConfig: Config = Object.freeze({
    ...config,
    maxConcurrentExecutions: 1,
    maxQueueSize: 16,
    workerMaxExecutions: 0,
  });

  // One message whether the id never existed or belongs to another client: an id says nothing.
  const get = (id: string, owner: string | undefined): Session => {
    const session = sessions.get(id);
    if (!session || session.owner !== owner) {
      throw new ExecutorError(
        'INVALID_INPUT',
        `No session '${id}': it was closed, expired after ${config.sessionIdleTimeoutMs} ms idle (SESSION_IDLE_TIMEOUT_MS), or never existed; create one with create_session`,
        { details: { reason: 'UNKNOWN_SESSION', sessionId: id } },
      );
    }
    return session;
  };

  const info = (s: Session): SessionInfo => ({
    sessionId: s.id,
    ageMs: Math.round(performance.now() - s.created),
    idleMs: s.running > 0 ? 0 : Math.round(performance.now() - s.lastUsed),
    executions: s.executions,
    running: s.running > 0,
    memoryMb: s.memoryMb,
    restarts: s.restarts,
  });

  const armExpiry = (s: Session) => {
    clearTimeout(s.expiry);
    s.expiry = setTimeout(() => {
      if (s.running > 0) return armExpiry(s);
      logger.info({ sessionId: s.id }, 'session expired');
      void closeSession(s);
    }, config.sessionIdleTimeoutMs);
    s.expiry.unref();
  };

  const newPool = () => createExecutorPool({ ...deps, config: poolConfig, session: true });

  async function closeSession(s: Session): Promise<void> {
    clearTimeout(s.expiry);
    sessions.delete(s.id);
    await s.pool.close();
  }

  const scoped = (owner: string | undefined): SessionManager => ({
    get enabled() {
      return config.maxSessions > 0;
    },
    async create() {
      if (config.maxSessions === 0) {
        throw new ExecutorError('INVALID_INPUT', 'Sessions are off on this server (MAX_SESSIONS=0); each call runs with a fresh namespace', {
          details: { reason: 'SESSIONS_DISABLED' },
        });
      }
      if (sessions.size >= config.maxSessions) {
        throw new ExecutorError(
          'INVALID_INPUT',
          `All ${config.maxSessions} sessions are in use (MAX_SESSIONS); close one with close_session, or wait for an idle one to expire`,
          { details: { reason: 'TOO_MANY_SESSIONS', maxSessions: config.maxSessions } },
        );
      }
      const now = performance.now();
      const s: Session = { id: randomUUID(), pool: newPool(), created: now, lastUsed: now, executions: 0, running: 0, memoryMb: 0, restarts: 0, expiry: undefined, turn: Promise.resolve(), owner };
      sessions.set(s.id, s);
      void s.pool.ready().catch(() => {});
      armExpiry(s);
      logger.info({ sessionId: s.id, sessions: sessions.size }, 'session created');
      return info(s);
    },
    async run(id, request) {
      const s = get(id, owner);
      s.running += 1;
      clearTimeout(s.expiry);
      const previous = s.turn;
      let done: () => void = () => {};
      s.turn = new Promise<void>((resolve) => (done = resolve));
      try {
        await previous;
        const result = await s.pool.run(request);
        s.executions += 1;
        const lost = 'workerRestarted' in result && result.workerRestarted;
        if (lost) s.restarts += 1;
        if ('memory' in result && result.memory.wasmMb > 0) s.memoryMb = result.memory.wasmMb;
        return { ...result, sessionState: lost ? 'lost' : 'kept' };
      } finally {
        done();
        s.running -= 1;
        s.lastUsed = performance.now();
        if (sessions.has(s.id)) armExpiry(s);
      }
    },
    async reset(id) {
      const s = get(id, owner);
      // In turn with the session's calls: the same memory rewrite that follows every call
      // outside a session (a worker that cannot be reset is replaced).
      const previous = s.turn;
      let done: () => void = () => {};
      s.turn = new Promise<void>((resolve) => (done = resolve));
      try {
        await previous;
        await s.pool.reset();
      } finally {
        done();
      }
      s.restarts += 1;
      s.lastUsed = performance.now();
      armExpiry(s);
      logger.info({ sessionId: id }, 'session reset');
      return info(s);
    },
    async close(id) {
      const s = sessions.get(id);
      if (!s || s.owner !== owner) return false;
      await closeSession(s);
      logger.info({ sessionId: id, sessions: sessions.size }, 'session closed');
      return true;
    },
    list: () => [...sessions.values()].filter((s) => owner === undefined || s.owner === owner).map(info),
    count: () => sessions.size,
    listWithOwners: () => [...sessions.values()].map((s) => ({ ...info(s), owner: s.owner })),
    async closeAll() {
      await Promise.all([...sessions.values()].filter((s) => owner === undefined || s.owner === owner).map(closeSession));
    },
    forOwner: (id) => scoped(id),
  });
  return scoped(undefined);
}
