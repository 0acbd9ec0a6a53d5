/** The contract's error codes and their HTTP statuses (API.md, "Errors"). */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  field?: string;
  location?: string;
  message: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
  retryAfterMs?: number;
}

/** A failure the client may see. Anything that is not an AppError is reported as INTERNAL. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** RATE_LIMITED only: when to try again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what = 'Not found') => new AppError('NOT_FOUND', what);
export const validationFailed = (message: string, details?: ErrorDetail[]) =>
  new AppError('VALIDATION_FAILED', message, details);

const CONNECTION_ERRORS = new Set([
  'SequelizeConnectionError',
  'SequelizeConnectionRefusedError',
  'SequelizeConnectionAcquireTimeoutError',
  'SequelizeHostNotFoundError',
  'SequelizeHostNotReachableError',
  'SequelizeConnectionTimedOutError',
]);

/** pg's SQLSTATE classes for a connection that failed or a server that is going away. */
function isDatabaseGone(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P') || code === 'ECONNREFUSED' || code === 'ECONNRESET')) {
    return true;
  }
  return typeof message === 'string' && /^Connection terminated/.test(message);
}

/**
 * Turns anything thrown into an AppError. Database connection failures become UNAVAILABLE;
 * everything unknown becomes INTERNAL with a fixed message, so no SQL or stack leaves the process.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const name = (err as { name?: string } | null)?.name;
  if ((name && CONNECTION_ERRORS.has(name)) || isDatabaseGone(err)) {
    return new AppError('UNAVAILABLE', 'The database is unavailable; try again');
  }
  return new AppError('INTERNAL', 'Internal server error');
}

/** The wire form of an error, shared by REST bodies, socket acks and `error` events. */
export function errorBody(err: AppError): ErrorBody {
  const body: ErrorBody = { code: err.code, message: err.message };
  if (err.details?.length) body.details = err.details;
  if (err.retryAfterMs !== undefined) body.retryAfterMs = err.retryAfterMs;
  return body;
}
