import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../shared/logger';
import { requestContext } from '../shared/request-context';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Gives each request an id (the caller's X-Request-Id when it is sane) that every log line carries. */
export const requestContextMiddleware: RequestHandler = (req, res, next) => {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.set('X-Request-Id', requestId);
  requestContext.run({ requestId }, next);
};

/**
 * One line per request at winston's `http` level (below the default `info`, so LOG_LEVEL=http
 * turns it on): method, route pattern, status and duration. Never bodies, queries or headers,
 * which may hold message text or tokens.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (!logger.isLevelEnabled('http')) return;
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.http('request', { method: req.method, route, status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    });
    next();
  };
}
