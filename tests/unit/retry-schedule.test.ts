import { JITTER, MAX_DELAY_MS, nextAttemptAt, retryDelayMs } from '../../src/webhooks/retry-schedule';

describe('webhook retry schedule', () => {
  const policy = { retryBaseMs: 5000, retryHours: 24 };
  const queuedAt = new Date('2026-12-10T00:00:00Z');

  test('the first retry comes after about the base, and each next one waits twice as long', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 5000, middle))).toEqual([5000, 10_000, 20_000, 40_000]);
  });

  test('jitter spreads each delay within ±20 %', () => {
    expect(retryDelayMs(1, 5000, () => 0)).toBe(5000 * (1 - JITTER));
    expect(retryDelayMs(1, 5000, () => 0.999_999)).toBeCloseTo(5000 * (1 + JITTER), -1);
    const seen = new Set(Array.from({ length: 50 }, () => retryDelayMs(3, 5000)));
    expect(seen.size).toBeGreaterThan(1);
    for (const delay of seen) expect(delay).toBeGreaterThanOrEqual(16_000);
  });

  test('delays stop growing at an hour', () => {
    expect(retryDelayMs(30, 5000, () => 0.5)).toBe(MAX_DELAY_MS);
  });

  test('the last attempt falls on the end of the window; after it the event is failed', () => {
    const nearEnd = new Date(queuedAt.getTime() + 24 * 3_600_000 - 1000);
    expect(nextAttemptAt({ attempts: 20, queuedAt }, policy, nearEnd)).toEqual(new Date(queuedAt.getTime() + 24 * 3_600_000));
    expect(nextAttemptAt({ attempts: 21, queuedAt }, policy, new Date(queuedAt.getTime() + 24 * 3_600_000))).toBeUndefined();
    expect(nextAttemptAt({ attempts: 1, queuedAt }, { retryBaseMs: 100, retryHours: 0.001 }, new Date(queuedAt.getTime() + 3600))).toBeUndefined();
  });
});
