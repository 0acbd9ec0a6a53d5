import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, errorBody, toAppError } from '../shared/errors';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import { requestFields } from './request-context.middleware';

/**
 * Failures of the HTTP layer (body-parser, Express's router), turned into the contract's codes.
 * They carry a 4xx status: the request itself is malformed, so none of them is a 500.
 */
function fromHttpLayer(err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined;
  const { type, status } = (err ?? {}) as { type?: string; status?: unknown };
  if (type === 'entity.parse.failed') return new AppError('VALIDATION_FAILED', 'The request body is not valid JSON');
  if (type === 'entity.too.large' || status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported' || status === 415) {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
  }
  // Others: a body that does not decompress or is shorter than its Content-Length, a path that is
  // not valid percent-encoding.
  if (typeof status === 'number' && status >= 400 && status < 500) return new AppError('VALIDATION_FAILED', 'The request is malformed');
  return undefined;
}

/**
 * The one place REST errors are rendered. Unknown errors are logged with their stack and leave as
 * a bare INTERNAL: no SQL, no stack, no hint.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const appError = fromHttpLayer(err) ?? toAppError(err);
    if (appError.code === 'INTERNAL' || appError.code === 'UNAVAILABLE') {
      errorLog(logger).error('request failed', err, { ...requestFields(res), method: req.method, path: req.path });
    }
    if (appError.retryAfterMs !== undefined) res.set('Retry-After', String(Math.max(1, Math.ceil(appError.retryAfterMs / 1000))));
    res.status(appError.status).json({ error: errorBody(appError) });
  };
}

export const notFoundHandler: RequestHandler = () => {
  throw new AppError('NOT_FOUND', 'No such route');
};
