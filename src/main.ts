import fs from 'node:fs';
import { cachePaths, type Config } from './config.js';
import { createLogger } from './logging.js';
import { Metrics } from './metrics.js';
import { createPackageManager } from './packages/packageManager.js';
import { resolvePackageSource } from './packages/packageSource.js';
import { createExecutorPool, type ExecutorPool } from './pool/executorPool.js';
import { loadOrMakeSnapshot } from './pool/snapshot.js';
import { createSessionManager } from './sessions/sessionManager.js';
import { runtimeInfo } from './versions.js';

/**
 * The server proper, composed: logger → snapshot → packages → pool → MCP server on stdio or HTTP.
 * The MCP side is imported only once the pool has started its first worker, so the two load side
 * by side on separate cores (the SDK's import and Pyodide's restore each take a few hundred ms).
 */
export async function main(config: Config): Promise<void> {
  const logger = createLogger(config);
  const runtime = runtimeInfo();
  logger.info({ version: runtime.version, python: runtime.pythonVersion, node: runtime.nodeVersion, pid: process.pid }, 'starting');
  const metrics = new Metrics();
  const paths = cachePaths(config);
  const packageSource = resolvePackageSource(config, logger);
  const snapshot = loadOrMakeSnapshot({ packages: packageSource, extraImports: config.warmImports, snapshotDir: paths.snapshots, logger });
  let pool: ExecutorPool | undefined;
  const packages = createPackageManager({ config, logger, snapshot, packageSource, onChange: () => pool?.syncPackages() });
  pool = createExecutorPool({
    config,
    logger,
    snapshot,
    packageSource,
    packages: () => packages.records(),
    packagesReady: packages.ready(),
  });
  const sessions = createSessionManager({
    config,
    logger,
    snapshot,
    packageSource,
    packages: () => packages.records(),
    packagesReady: packages.ready(),
  });
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
      await sessions.closeAll();
      await packages.close();
      await pool?.close();
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
      health: () => ({ version: runtime.version, ...pool?.stats() }),
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
  void pool.ready().then(
    () => logger.info({ ms: Math.round(performance.now()) }, 'ready'),
    (error: unknown) => {
      if (stopping) return; // shut down before the first worker was up: nothing failed
      logger.error({ error: String(error) }, 'start-up failed');
      // A damaged snapshot in the cache fails every worker the same way: drop it, so the next
      // start makes a new one (a good one dropped by mistake costs that start a few seconds).
      if (pool.stats().startFailures > 0) {
        fs.rmSync(paths.snapshots, { recursive: true, force: true });
        logger.error({ dir: paths.snapshots }, 'cached start-up snapshots removed: restart the server to make a new one');
      }
    },
  );
}
