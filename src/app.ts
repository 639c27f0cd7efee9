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
import { registerCoreOperations } from './fhir/core-operations';
import { registerPrivacyOperations } from './privacy/operations';
import { registerDecisionOperations } from './services/operations';
import { createTokenVerifier } from './auth/jwt';
import { authenticate } from './http/authenticate';
import { rateLimiter } from './http/rate-limit';
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
}

/** Creates the HTTP application. */
export function createApp(deps: AppDeps): Express {
  const logger = deps.logger ?? pino({ level: deps.config.logLevel });
  const ctx: FhirContext = {
    store: deps.store,
    config: deps.config,
    validator: deps.validator ?? createResourceValidator(),
    registry: deps.registry,
    operations: registerDecisionOperations(registerPrivacyOperations(registerCoreOperations(new OperationRegistry()))),
    audit: new AuditGroupCommit(deps.store),
  };
  if (!deps.config.auth) throw new Error('createApp needs config.auth (see withDevSecrets for development)');
  const verify = createTokenVerifier(deps.config.auth);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
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
      await deps.store.ping();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'store unavailable' });
    }
  });

  app.use(
    '/fhir',
    authenticate(verify, logger, async (requestId, method, path) => {
      const trail = new AuditTrail({ requestId });
      trail.add(failureEntry(method, path.split('/').filter(Boolean), 401, 'login'));
      await ctx.audit.commit(trail);
    }),
    rateLimiter(deps.config.rateLimitPerMinute),
    express.raw({ type: () => true, limit: deps.config.bodyLimitBytes }),
    fhirHandler(ctx),
  );
  app.use((_req, _res, next) => next(notFound('No such endpoint; the FHIR API is under /fhir')));
  app.use(errorMiddleware(logger));
  return app;
}
