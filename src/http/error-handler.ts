import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, errorBody, toAppError } from '../shared/errors';
import type { Logger } from '../shared/logger';

/** body-parser's failures, turned into the contract's codes. */
function fromBodyParser(err: unknown): AppError | undefined {
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new AppError('VALIDATION_FAILED', 'The request body is not valid JSON');
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
  }
  return undefined;
}

/**
 * The one place REST errors are rendered. Unknown errors are logged with their stack and leave as
 * a bare INTERNAL: no SQL, no stack, no hint.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const appError = fromBodyParser(err) ?? toAppError(err);
    if (appError.code === 'INTERNAL' || appError.code === 'UNAVAILABLE') {
      logger.error('request failed', { method: req.method, path: req.path, err: err instanceof Error ? err.stack : String(err) });
    }
    if (appError.retryAfterMs !== undefined) res.set('Retry-After', String(Math.max(1, Math.ceil(appError.retryAfterMs / 1000))));
    res.status(appError.status).json({ error: errorBody(appError) });
  };
}

export const notFoundHandler: RequestHandler = () => {
  throw new AppError('NOT_FOUND', 'No such route');
};
