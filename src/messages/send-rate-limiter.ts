import { AppError } from '../shared/errors';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const SWEEP_EVERY = 10_000;

/**
 * Per-user token bucket for sends over REST and sockets together: `burst` tokens, refilled at
 * `perSecond`. In-process, so with several nodes each node enforces its own share.
 */
export class SendRateLimiter {
  private readonly buckets = new Map<number, Bucket>();
  private takes = 0;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token or throws RATE_LIMITED with the wait until the next one. */
  take(userId: number): void {
    const now = this.now();
    const bucket = this.buckets.get(userId) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) {
      this.buckets.set(userId, bucket);
      const retryAfterMs = Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
      throw new AppError('RATE_LIMITED', 'Too many messages; slow down', undefined, retryAfterMs);
    }
    bucket.tokens -= 1;
    this.buckets.set(userId, bucket);
    if (++this.takes % SWEEP_EVERY === 0) this.sweep(now);
  }

  /** Forgets buckets that have refilled completely: they hold no information. */
  private sweep(now: number): void {
    for (const [userId, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond >= this.burst) this.buckets.delete(userId);
    }
  }
}
