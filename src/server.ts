/**
 * Process entry point: load config, open the store, listen, and shut down gracefully on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the store).
 */
import { createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from './config';
import { createLinkcare } from './app';
import { openStore } from './store/open';
import { loadSearchRegistry } from './search/registry';
import { createIndexer } from './search/indexer';
import { withDevSecrets } from './auth/dev-secrets';
import { answerClientError } from './http/client-error';

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Caps how far the heap may grow between full collections. V8's adaptive factor let a busy server
 * carry up to 4× its live data in garbage; the GC reads the flag at every collection, so setting it
 * at start-up takes effect (https://v8.dev/blog/trash-talk for why garbage is promoted at all).
 */
function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`linkcare: configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  applyHeapGrowth(config.heapGrowthPercent);
  const logger = pino({ level: config.logLevel });
  if (!config.auth || !config.pseudonymKey) {
    config = withDevSecrets(config);
    logger.warn('development keys in use (data folder dev-secrets.json); never in production');
  }
  const registry = loadSearchRegistry();
  const server = createServer();
  server.on('clientError', answerClientError);
  // Listen first: with PORT=0 the real port is known only then, and the base URL depends on it.
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  if (config.baseUrlFromPort) config = { ...config, baseUrl: `http://localhost:${port}/fhir` };
  const store = await openStore(config.database, createIndexer(registry, config.baseUrl));
  const linkcare = createLinkcare({ config, store, logger, registry });
  server.on('request', linkcare.app);
  logger.info({ port, store: store.kind }, 'listening');
  process.stdout.write(`linkcare FHIR server listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/fhir\n`);
  server.keepAliveTimeout = 5_000;

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('grace period over; closing remaining connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      void linkcare
        .stop()
        .then(() => store.close())
        .then(() => {
        logger.info('stopped');
        process.exit(0);
      });
    });
    // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`linkcare: failed to start: ${(err as Error).message}\n`);
  if (process.env.LINKCARE_DEBUG_STARTUP) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
