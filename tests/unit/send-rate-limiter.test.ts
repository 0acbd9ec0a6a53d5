import { SendRateLimiter } from '../../src/messages/send-rate-limiter';
import type { AppError } from '../../src/shared/errors';

describe('send rate limiter', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  test('allows a burst, then refuses with the wait until the next token', () => {
    const limiter = new SendRateLimiter(3, 2, clock);
    for (let i = 0; i < 3; i++) limiter.take(1);
    let error: AppError | undefined;
    try {
      limiter.take(1);
    } catch (err) {
      error = err as AppError;
    }
    expect(error?.code).toBe('RATE_LIMITED');
    expect(error?.retryAfterMs).toBe(500);
  });

  test('refills at the configured rate', () => {
    const limiter = new SendRateLimiter(1, 2, clock);
    limiter.take(1);
    expect(() => limiter.take(1)).toThrow();
    now += 500;
    expect(() => limiter.take(1)).not.toThrow();
  });

  test('users have separate buckets', () => {
    const limiter = new SendRateLimiter(1, 1, clock);
    limiter.take(1);
    expect(() => limiter.take(2)).not.toThrow();
    expect(() => limiter.take(1)).toThrow();
  });
});
