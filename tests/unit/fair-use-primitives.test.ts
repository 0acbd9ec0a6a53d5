import { MemoryTokenBucketStore } from '../../src/limits/token-bucket-store';
import { UserLanes } from '../../src/limits/user-lanes';
import { AppError } from '../../src/shared/errors';

describe('MemoryTokenBucketStore', () => {
  let now = 0;
  const store = () => new MemoryTokenBucketStore(() => now);
  const send = { key: 'send:1', burst: 3, perSecond: 2 };
  const conversation = { key: 'conversation:1', burst: 1, perSecond: 0.1 };

  beforeEach(() => {
    now = 1_000_000;
  });

  test('a full bucket gives its burst, then refuses with the wait until the next token', () => {
    const buckets = store();
    expect([buckets.take([send]), buckets.take([send]), buckets.take([send])]).toEqual([0, 0, 0]);
    expect(buckets.take([send])).toBe(500);
    now += 500;
    expect(buckets.take([send])).toBe(0);
    expect(buckets.take([send])).toBe(500);
  });

  test('a fractional rate refills one token every 1/rate seconds', () => {
    const buckets = store();
    expect(buckets.take([conversation])).toBe(0);
    expect(buckets.take([conversation])).toBe(10_000);
    now += 4_000;
    expect(buckets.take([conversation])).toBe(6_000);
  });

  test('several buckets are taken all or none, and the wait is the longest', () => {
    const buckets = store();
    expect(buckets.take([send, conversation])).toBe(0);
    // conversation is empty: send must not be charged either.
    expect(buckets.take([send, conversation])).toBe(10_000);
    expect([buckets.take([send]), buckets.take([send])]).toEqual([0, 0]);
    expect(buckets.take([send])).toBe(500);
  });

  test('wait() tells the wait without taking', () => {
    const buckets = store();
    expect(buckets.wait([conversation])).toBe(0);
    expect(buckets.wait([conversation])).toBe(0);
    buckets.take([conversation]);
    expect(buckets.wait([conversation])).toBe(10_000);
  });

  test('users and classes have buckets of their own', () => {
    const buckets = store();
    for (let i = 0; i < 3; i++) buckets.take([send]);
    expect(buckets.take([send])).toBeGreaterThan(0);
    expect(buckets.take([{ ...send, key: 'send:2' }])).toBe(0);
    expect(buckets.take([{ ...send, key: 'read:1' }])).toBe(0);
  });

  test("the sweep forgets only buckets that are full again, whatever the class of the take that runs it", () => {
    const buckets = store();
    expect(buckets.take([conversation])).toBe(0);
    // 10,000 takes of a fast class later (sweeps run), the slow bucket is still empty.
    for (let i = 0; i < 10_000; i++) buckets.take([{ key: `read:${i}`, burst: 200, perSecond: 50 }]);
    now += 5_000;
    expect(buckets.take([conversation])).toBe(5_000);
  });
});

describe('UserLanes', () => {
  test('at most `width` operations of one user run at once; the rest start in order as others end', async () => {
    const lanes = new UserLanes(2, 60_000);
    const started: number[] = [];
    const finishers: (() => void)[] = [];
    const runs = [1, 2, 3, 4].map((n) =>
      lanes.run(7, () => {
        started.push(n);
        return new Promise<void>((resolve) => finishers.push(resolve));
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2]);
    // Another user is not held up by user 7's lane.
    await lanes.run(8, async () => started.push(80));
    expect(started).toEqual([1, 2, 80]);
    finishers[0]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2, 80, 3]);
    finishers[1]!();
    finishers[2]!();
    await new Promise((resolve) => setImmediate(resolve));
    finishers[3]!();
    await Promise.all(runs);
    expect(started).toEqual([1, 2, 80, 3, 4]);
  });

  test('an operation that fails still gives its place back', async () => {
    const lanes = new UserLanes(1, 60_000);
    await expect(lanes.run(1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lanes.run(1, async () => 'next')).resolves.toBe('next');
  });

  test('a wait is bounded: past it the waiting operation is RATE_LIMITED (its own backlog), and the lane goes on', async () => {
    const lanes = new UserLanes(1, 50);
    let finish!: () => void;
    const first = lanes.run(1, () => new Promise<void>((resolve) => (finish = resolve)));
    await expect(lanes.run(1, async () => 'late')).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    await first;
    await expect(lanes.run(1, async () => 'next')).resolves.toBe('next');
  });

  test('when an operation fails because the database is away, those waiting behind it are answered at once', async () => {
    const lanes = new UserLanes(1, 60_000);
    let fail!: () => void;
    const first = lanes.run(1, () => new Promise<void>((_, reject) => (fail = () => reject(new AppError('UNAVAILABLE', 'gone')))));
    const waiting = [lanes.run(1, async () => 'a'), lanes.run(1, async () => 'b')];
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    fail();
    await expect(first).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(lanes.run(1, async () => 'after')).resolves.toBe('after');
  });
});
