/**
 * The contract's fair-use classes (API.md, "Fair use"): every authenticated REST route and socket
 * event takes one token from its user's bucket of one class, shared by both doors.
 */
export const RATE_CLASSES = ['send', 'conversation', 'receipt', 'typing', 'read', 'upload'] as const;

export type RateClass = (typeof RATE_CLASSES)[number];

export interface BucketConfig {
  /** Tokens a full bucket holds. */
  burst: number;
  /** Tokens added per second; may be a fraction (0.1 is one every 10 s). */
  perSecond: number;
}

export type RateLimits = Record<RateClass, BucketConfig>;

export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  send: { burst: 100, perSecond: 20 },
  conversation: { burst: 20, perSecond: 0.1 },
  receipt: { burst: 200, perSecond: 50 },
  typing: { burst: 20, perSecond: 4 },
  read: { burst: 200, perSecond: 50 },
  upload: { burst: 20, perSecond: 0.5 },
});

/** The environment variable prefix of a class: RATE_LIMIT_SEND_BURST, RATE_LIMIT_SEND_PER_SEC, … */
export const envPrefix = (rateClass: RateClass) => `RATE_LIMIT_${rateClass.toUpperCase()}`;
