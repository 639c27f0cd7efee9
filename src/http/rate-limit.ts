/**
 * Rate limiting per token subject (per address before authentication), with 429 and
 * Retry-After, answered as an OperationOutcome.
 */
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Request, Response } from 'express';
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';
import type { Principal } from '../auth/principal';

/** Builds the limiter: `perMinute` requests per subject (or per client address when anonymous). */
export function rateLimiter(perMinute: number) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    keyGenerator: (req: Request, res: Response) => {
      const p = res.locals.principal as Principal | undefined;
      return p ? `sub:${p.org}:${p.sub}` : `ip:${ipKeyGenerator(req.ip ?? '0.0.0.0')}`;
    },
    handler: (_req, res, next) => {
      next(
        new OperationOutcomeError(429, outcome(issue('throttled', 'Too many requests: slow down and retry later')), {
          'Retry-After': String(Math.ceil(Number(res.getHeader('RateLimit-Reset') ?? 60)) || 60),
        }),
      );
    },
  });
}
