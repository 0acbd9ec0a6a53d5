/**
 * When a webhook whose attempt failed is tried again (API.md, "Webhooks to the host"): after about
 * base · 2^(attempts − 1), capped at MAX_DELAY_MS, spread by ±JITTER so that the events a receiver
 * outage failed together do not all come back at the same instant. An event is retried for
 * `retryHours` after it was queued; the last attempt falls on that deadline, and if it fails too
 * the event is failed.
 */

/** The longest wait between two attempts, so that a receiver back after hours hears soon. */
export const MAX_DELAY_MS = 60 * 60 * 1000;
/** Each delay is multiplied by a random factor in [1 − JITTER, 1 + JITTER). */
export const JITTER = 0.2;

export interface RetryPolicy {
  retryBaseMs: number;
  retryHours: number;
}

/** The delay before the next attempt after `attempts` failed ones (1 = the first failed). */
export function retryDelayMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(baseMs * 2 ** Math.max(0, attempts - 1), MAX_DELAY_MS);
  return Math.round(exponential * (1 - JITTER + 2 * JITTER * random()));
}

/** When to try again after a failed attempt, or undefined when the retry window is over (failed). */
export function nextAttemptAt(
  failed: { attempts: number; queuedAt: Date },
  policy: RetryPolicy,
  now: Date,
  random: () => number = Math.random,
): Date | undefined {
  const deadline = failed.queuedAt.getTime() + policy.retryHours * 60 * 60 * 1000;
  if (now.getTime() >= deadline) return undefined;
  return new Date(Math.min(now.getTime() + retryDelayMs(failed.attempts, policy.retryBaseMs, random), deadline));
}
