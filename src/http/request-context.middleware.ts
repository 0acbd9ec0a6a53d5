import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from '../shared/logger';
import { routeLabel } from './route-label';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives each request an id (the caller's X-Request-Id when it is sane) that its log lines carry.
 * It rides on res.locals rather than AsyncLocalStorage: ALS keeps promise hooks on for the whole
 * process, which cost every socket message a few percent of its CPU.
 */
export const requestContextMiddleware: RequestHandler = (req, res, next) => {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.set('X-Request-Id', requestId);
  res.locals.requestId = requestId;
  next();
};

/** What a request's log lines say about it: its id and, once authenticated, its user. */
export function requestFields(res: Response): { requestId?: string; userId?: number } {
  const locals = res.locals as { requestId?: string; principal?: { userId: number } };
  return { requestId: locals.requestId, userId: locals.principal?.userId };
}

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
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.http('request', { ...requestFields(res), method: req.method, route: routeLabel(req), status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    });
    next();
  };
}
