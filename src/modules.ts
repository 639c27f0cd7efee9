/**
 * The feature modules that make up linkcare, in the order their rules run. A module contributes
 * operations, write rules, background workers, routes outside /fhir and start-up seed data;
 * createLinkcare wires them. Adding a feature means adding a module here, not editing the core.
 */
import type { Express, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FhirContext } from './fhir/context';
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
import { exportModule } from './export/module';

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
}

/** Every module, in rule order: profiles complete a resource before the policies check it. */
export const MODULES: readonly LinkcareModule[] = [
  coreModule,
  privacyModule,
  terminologyModule,
  profilesModule,
  servicesModule,
  consentModule,
  referralsModule,
  subscriptionsModule,
  reportingModule,
  exportModule,
];
