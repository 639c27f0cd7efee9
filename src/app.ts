/**
 * Builds the express app from injected config, store and logger. No module-level state:
 * tests and several instances can run side by side.
 */
import express, { type Express } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import pino, { type Logger } from 'pino';
import type { Config } from './config';
import type { Store } from './store/port';
import type { FhirContext, ResourceValidator } from './fhir/context';
import { createResourceValidator } from './fhir/validation/validator';
import { fhirHandler } from './http/fhir-handler';
import { errorMiddleware } from './http/errors';
import { requestLog } from './http/request-log';
import { notFound } from './fhir/outcome';
import type { SearchRegistry } from './search/registry';
import { OperationRegistry } from './fhir/operations';
import { shownResource, typesWithShownView } from './fhir/rules';
import { type LinkcareModule, type ModuleHost, modulesFor } from './modules';
import { type WorkerPool, startWorkers } from './jobs/workers';
import { createTokenVerifier } from './auth/jwt';
import { authenticate } from './http/authenticate';
import { authFailureLimiter, rateLimiter } from './http/rate-limit';
import { noStore, showInResponses } from './http/response-hygiene';
import { AuditTrail } from './audit/recorder';
import { failureEntry } from './audit/entries';
import { AuditGroupCommit } from './audit/group-commit';

export interface AppDeps {
  config: Config;
  store: Store;
  logger?: Logger;
  validator?: ResourceValidator;
  /** The search registry the store's indexer was built from. */
  registry: SearchRegistry;
  /** Feature modules (default: all of src/modules.ts). */
  modules?: readonly LinkcareModule[];
  /** Run background workers (subscription deliveries, exports) in this instance; default true. */
  workers?: boolean;
}

/** A running linkcare instance: the express app, its context, and how to stop its background work. */
export interface Linkcare {
  app: Express;
  ctx: FhirContext;
  /** Resolves when start-up seeding is done (requests wait for it too). */
  ready: Promise<void>;
  /** Stops the background workers (the caller closes the store afterwards). */
  stop(): Promise<void>;
}

async function seedModules(ctx: FhirContext, modules: readonly LinkcareModule[]): Promise<void> {
  const seeding = modules.filter((m) => m.seed);
  if (!seeding.length) return;
  await ctx.store.unitOfWork(async (tx) => {
    for (const m of seeding) await m.seed!(ctx, tx);
  });
}

/** Creates the HTTP application. */
export function createApp(deps: AppDeps): Express {
  return createLinkcare(deps).app;
}

/** Creates an instance: app, context, seed data and background workers. */
export function createLinkcare(deps: AppDeps): Linkcare {
  const logger = deps.logger ?? pino({ level: deps.config.logLevel });
  const modules = deps.modules ?? modulesFor(deps.config);
  const operations = new OperationRegistry();
  for (const m of modules) m.registerOperations?.(operations);
  const ctx: FhirContext = {
    store: deps.store,
    config: deps.config,
    validator: deps.validator ?? createResourceValidator(),
    registry: deps.registry,
    operations,
    audit: new AuditGroupCommit(deps.store),
    rules: modules.flatMap((m) => m.rules ?? []),
    searchRewrites: modules.flatMap((m) => m.searchRewrites ?? []),
    ready: Promise.resolve(),
  };
  const ready = seedModules(ctx, modules);
  // A failed seed is reported by every request (and by /readyz), not as an unhandled rejection.
  ready.catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : 'error' }, 'start-up seeding failed'));
  ctx.ready = ready;
  let pool: WorkerPool | undefined;
  if (deps.workers !== false) {
    const workers = modules.flatMap((m) => m.workers ?? []);
    if (workers.length) {
      pool = startWorkers(ctx, workers, logger);
      ctx.workers = pool;
    }
  }
  if (!deps.config.auth) throw new Error('createApp needs config.auth (see withDevSecrets for development)');
  const verify = createTokenVerifier(deps.config.auth);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  // Which X-Forwarded-For hop is the client: the per-address rate limits key on req.ip.
  app.set('trust proxy', deps.config.trustProxy);
  app.use(requestLog(logger));
  app.use(helmet());
  app.use(
    cors({
      origin: deps.config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Exist', 'Prefer', 'X-Request-Id'],
      exposedHeaders: ['ETag', 'Location', 'Last-Modified', 'Content-Location', 'X-Progress', 'X-Request-Id'],
      maxAge: 600,
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await ready;
      await deps.store.ping();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'store unavailable' });
    }
  });

  const authenticated = [
    noStore,
    authenticate(
      verify,
      logger,
      async (requestId, method, path) => {
        const trail = new AuditTrail({ requestId });
        trail.add(failureEntry(method, path.split('/').filter(Boolean), 401, 'login'));
        await ctx.audit.commit(trail);
      },
      // Refusals have their own per-address budget: past it 429, and no audit write.
      authFailureLimiter(deps.config.authFailuresPerMinute),
    ),
    rateLimiter(deps.config.rateLimitPerMinute),
  ];
  // Stored but never shown (the rules' `shown` views; Subscription.channel.header values, src/subscriptions/mask.ts).
  const redact = showInResponses(typesWithShownView(ctx.rules), (resource) => shownResource(ctx, resource));
  app.use('/fhir', ...authenticated, redact, express.raw({ type: () => true, limit: deps.config.bodyLimitBytes }), fhirHandler(ctx));
  const host: ModuleHost = { ctx, authenticated, logger };
  for (const m of modules) m.routes?.(app, host);
  app.use((_req, _res, next) => next(notFound('No such endpoint; the FHIR API is under /fhir')));
  app.use(errorMiddleware(logger));
  return {
    app,
    ctx,
    ready,
    async stop() {
      await pool?.stop();
    },
  };
}
