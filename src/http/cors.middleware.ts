import type { RequestHandler } from 'express';
import cors from 'cors';
import { AppError } from '../shared/errors';
import type { OriginPolicy } from './origin-policy';

/**
 * CORS for the REST API. A request from an origin the policy refuses is FORBIDDEN in the error
 * envelope (preflights included); an allowed one gets the CORS headers from the `cors` package,
 * and a preflight is answered here, before authentication (browsers send it without a token).
 * Requests without an Origin pass untouched: CORS does not concern them.
 */
export function corsMiddleware(policy: OriginPolicy): RequestHandler {
  const headers = cors({
    origin: true, // reflect the Origin: only origins the policy allowed get this far
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Content-Disposition'],
    maxAge: 600,
  });
  return (req, res, next) => {
    const { origin, host } = req.headers;
    if (origin === undefined) return next();
    if (!policy.allows(origin, host)) throw new AppError('FORBIDDEN', 'This origin may not call the API');
    headers(req, res, next);
  };
}
