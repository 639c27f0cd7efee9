/**
 * The one error middleware: OperationOutcomeError → its status and outcome; body-parser
 * errors → 4xx; anything else → a generic 500 carrying only the request id.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { OperationOutcomeError, issue, outcome } from '../fhir/outcome';

interface HttpishError {
  type?: string;
  status?: number;
  statusCode?: number;
}

/** Maps errors raised by express's own body parsing to an OperationOutcomeError, when they are that. */
function fromBodyParser(err: unknown): OperationOutcomeError | undefined {
  const e = err as HttpishError;
  if (e?.type === 'entity.too.large') {
    return new OperationOutcomeError(413, outcome(issue('too-costly', 'The request body is larger than the server accepts')));
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof e.type === 'string') {
    return new OperationOutcomeError(status, outcome(issue('invalid', 'The request body could not be read')));
  }
  return undefined;
}

/** Builds the error middleware. */
export function errorMiddleware(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const requestId = String(res.locals.requestId ?? '');
    const known = err instanceof OperationOutcomeError ? err : fromBodyParser(err);
    if (known) {
      for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
      if (known.status === 401 && !res.getHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(known.status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(known.outcome));
      return;
    }
    // Only the error's name and stack go to the log: never the request body or query.
    logger.error({ requestId, err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'unhandled error');
    const body = outcome(issue('exception', `Internal server error (request id ${requestId})`));
    res.status(500).type('application/fhir+json; charset=utf-8').send(JSON.stringify(body));
  };
}
