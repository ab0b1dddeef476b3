import type { Config } from './config.js';
import { remotePackages, remotePool, remoteSessions } from './front/executorApis.js';
import { createExecutorClient } from './front/executorClient.js';
import type { ExecutorProcess } from './front/executorProcess.js';
import { createLogger } from './logging.js';
import { Metrics } from './metrics.js';
import { runtimeInfo } from './versions.js';

/**
 * The front process, composed: logger → executor process → MCP server on stdio or HTTP. The front
 * holds the client's connection and never runs Python: the executor process (src/executor/) does,
 * and when it dies the front answers for it and starts another. The executor is forked first, so
 * its Pyodide restore and the SDK's import here run side by side on separate cores.
 */
export async function main(config: Config, firstExecutor?: ExecutorProcess): Promise<void> {
  const logger = createLogger(config);
  const runtime = runtimeInfo();
  logger.info({ version: runtime.version, python: runtime.pythonVersion, node: runtime.nodeVersion, pid: process.pid }, 'starting');
  if (config.cacheFallback) {
    logger.warn({ ...config.cacheFallback, using: config.packageCacheDir }, 'cache directory unusable, using a temporary one: set PACKAGE_CACHE_DIR to a writable directory to keep the cache');
  }
  const metrics = new Metrics();
  const executor = createExecutorClient({ config, logger, first: firstExecutor });
  const pool = remotePool(executor, config);
  const sessions = remoteSessions(executor, config);
  const packages = remotePackages(executor);
  const serverDeps = { config, logger, pool, sessions, metrics, runtime, packageManager: packages };
  const { createServer } = await import('./server/server.js');

  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'shutting down');
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    try {
      for (const close of closers) await close();
      await executor.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (config.transport === 'http') {
    const { startHttpServer } = await import('./server/http.js');
    const http = await startHttpServer({
      config,
      logger,
      newServer: () => createServer(serverDeps),
      health: () => ({ version: runtime.version, ...pool.stats() }),
    });
    closers.push(http.close);
    logger.info({ url: http.url, port: http.port, auth: Boolean(config.authToken) }, 'listening');
  } else {
    const { server, close, toolError } = createServer(serverDeps);
    closers.push(close);
    process.stdin.on('end', () => void shutdown('stdin closed'));
    process.stdin.on('close', () => void shutdown('stdin closed'));
    const { BoundedStdioTransport, maxMessageBytes } = await import('./server/stdioTransport.js');
    await server.connect(new BoundedStdioTransport({ maxMessageBytes: maxMessageBytes(config), logger, toolError }));
  }
  void executor.call('ready').then(
    () => logger.info({ ms: Math.round(performance.now()) }, 'ready'),
    (error: unknown) => {
      if (!stopping) logger.error({ error: String(error) }, 'start-up failed');
    },
  );
}
