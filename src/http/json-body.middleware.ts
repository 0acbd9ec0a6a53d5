import express, { type RequestHandler } from 'express';
import { AppError } from '../shared/errors';

/**
 * JSON bodies only, up to a size limit. A body in another format is refused with 415 rather than
 * silently read as empty.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is('application/json') && !req.is('multipart/form-data')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json');
    }
    next();
  };
  return [requireJson, express.json({ limit: limitBytes, strict: false })];
}
