import express, { type RequestHandler } from 'express';
import { AppError } from '../shared/errors';

/**
 * JSON bodies only, up to a size limit, but for the one upload route's multipart. A body in another
 * format is refused with 415 rather than silently read as empty. A failure is kept, not thrown: `bodyParsed` throws it once the call has
 * taken its fair-use token, so a malformed body costs one like any malformed call.
 */
export function jsonBody(limitBytes: number, multipartRoute: { method: string; path: string }): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    // A multipart body elsewhere would be skipped by the JSON parser and the call run without it.
    const multipartAllowed = req.method === multipartRoute.method && req.path === multipartRoute.path && req.is('multipart/form-data');
    if (hasBody && !req.is('application/json') && !multipartAllowed) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json');
    }
    next();
  };
  return [requireJson, express.json({ limit: limitBytes, strict: false })].map(deferringFailure);
}

function deferringFailure(handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (res.locals.bodyError) return next();
    const keep = (err?: unknown) => {
      if (err) res.locals.bodyError = err;
      next();
    };
    try {
      void handler(req, res, keep);
    } catch (err) {
      keep(err);
    }
  };
}

/** Throws the body's parse failure, if there was one (see jsonBody). */
export const bodyParsed: RequestHandler = (_req, res, next) => {
  if (res.locals.bodyError) throw res.locals.bodyError;
  next();
};
