import type { ErrorBody, ErrorCode } from './types';

/** A failure answered in the contract's error envelope (or a network failure, as UNAVAILABLE with status 0). */
export class DuetApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorBody['details'];
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly status: number,
    body: ErrorBody,
  ) {
    super(body.message);
    this.name = 'DuetApiError';
    this.code = body.code;
    this.details = body.details;
    this.retryAfterMs = body.retryAfterMs;
  }

  /** Worth another try with the same clientMessageId: nothing or the same thing was stored. */
  get retryable(): boolean {
    return this.code === 'UNAVAILABLE' || this.code === 'RATE_LIMITED' || this.code === 'INTERNAL';
  }
}

export const networkError = (err: unknown): DuetApiError =>
  new DuetApiError(0, { code: 'UNAVAILABLE', message: `No answer from the server: ${err instanceof Error ? err.message : String(err)}` });
