/** One user's bucket of one class, as a store sees it. */
export interface BucketSpec {
  key: string;
  burst: number;
  perSecond: number;
}

/**
 * Where token buckets live. In memory on one node; a Redis store (several nodes) implements the
 * same two calls, each as one atomic script, which is why they may answer with a promise.
 */
export interface TokenBucketStore {
  /** Takes one token from every bucket, or from none: 0 when taken, else the ms until all could be. */
  take(buckets: readonly BucketSpec[]): number | Promise<number>;
  /** The ms until one token could be taken from each bucket (0: now), taking nothing. */
  wait(buckets: readonly BucketSpec[]): number | Promise<number>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Kept with the bucket, so the sweep knows when it is full again. */
  spec: BucketSpec;
}

const SWEEP_EVERY = 10_000;

/** Token buckets in this process: a burst, then a steady refill. */
export class MemoryTokenBucketStore implements TokenBucketStore {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  take(specs: readonly BucketSpec[]): number {
    const now = this.now();
    const buckets = specs.map((spec) => this.refilled(spec, now));
    const wait = waitFor(specs, buckets);
    if (wait > 0) return wait;
    for (const bucket of buckets) bucket.tokens -= 1;
    if (++this.takes % SWEEP_EVERY === 0) this.sweep(now);
    return 0;
  }

  wait(specs: readonly BucketSpec[]): number {
    const now = this.now();
    return waitFor(specs, specs.map((spec) => this.refilled(spec, now)));
  }

  private refilled(spec: BucketSpec, now: number): Bucket {
    let bucket = this.buckets.get(spec.key);
    if (!bucket) {
      bucket = { tokens: spec.burst, updatedAt: now, spec };
      this.buckets.set(spec.key, bucket);
      return bucket;
    }
    bucket.spec = spec;
    bucket.tokens = Math.min(spec.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * spec.perSecond);
    bucket.updatedAt = now;
    return bucket;
  }

  /** Forgets buckets that have refilled completely: they hold no information. */
  private sweep(now: number): void {
    for (const [key, { tokens, updatedAt, spec }] of this.buckets) {
      if (tokens + ((now - updatedAt) / 1000) * spec.perSecond >= spec.burst) this.buckets.delete(key);
    }
  }
}

function waitFor(specs: readonly BucketSpec[], buckets: Bucket[]): number {
  let wait = 0;
  buckets.forEach((bucket, i) => {
    if (bucket.tokens < 1) wait = Math.max(wait, Math.ceil(((1 - bucket.tokens) / specs[i]!.perSecond) * 1000));
  });
  return wait;
}
