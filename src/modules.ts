/**
 * The feature modules that make up linkcare, in the order their rules run. A module contributes
 * operations, write rules, background workers, routes outside /fhir and start-up seed data;
 * createLinkcare wires them. Adding a feature means adding a module here, not editing the core.
 */
import type { Express, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FhirContext, SearchRewrite } from './fhir/context';
import type { OperationRegistry } from './fhir/operations';
import type { WriteRule } from './fhir/rules';
import type { Worker } from './jobs/workers';
import type { StoreTx } from './store/port';
import { coreModule } from './fhir/core-operations';
import { privacyModule } from './privacy/operations';
import { servicesModule } from './services/module';
import { consentModule } from './consent/module';
import { referralsModule } from './referrals/module';
import { subscriptionsModule } from './subscriptions/module';
import { terminologyModule } from './terminology/module';
import { profilesModule } from './profiles/module';
import { reportingModule } from './reporting/module';
import { createExportModule } from './export/module';
import type { Config } from './config';

/** What a module's routes get from the app. */
export interface ModuleHost {
  ctx: FhirContext;
  /** Authentication (and rate limiting) for routes outside /fhir; sets `res.locals.principal`. */
  authenticated: RequestHandler[];
  logger: Logger;
}

export interface LinkcareModule {
  name: string;
  registerOperations?(ops: OperationRegistry): void;
  rules?: readonly WriteRule[];
  workers?: readonly Worker[];
  /** Express routes outside /fhir. */
  routes?(app: Express, host: ModuleHost): void;
  /** Idempotent seeding of knowledge resources (CodeSystems, ValueSets, Measures…) at start-up. */
  seed?(ctx: FhirContext, tx: StoreTx): Promise<void>;
  /** Rewrites of a type's search query before it is parsed (parameters relative to the request). */
  searchRewrites?: readonly SearchRewrite[];
}

/** Every module, configured, in rule order: profiles complete a resource before the policies check it. */
export function modulesFor(config?: Config): LinkcareModule[] {
  const exportOptions = config ? { retentionMs: config.exportRetentionHours * 3_600_000, smallSiteClients: config.exportSmallSiteClients } : {};
  return [
    coreModule,
    privacyModule,
    terminologyModule,
    profilesModule,
    servicesModule,
    consentModule,
    referralsModule,
    subscriptionsModule,
    reportingModule,
    createExportModule(exportOptions),
  ];
}

/** The modules with default settings (tests that swap one module start from this list). */
export const MODULES: readonly LinkcareModule[] = modulesFor();
