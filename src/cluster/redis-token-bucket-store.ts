import type { RedisLink } from './redis-link';
import { LuaScript, REDIS_NOW_MS } from './lua-script';
import type { BucketSpec, TokenBucketStore } from '../limits/token-bucket-store';

/**
 * The same token buckets as MemoryTokenBucketStore (a burst, then a steady refill; all or none),
 * as one script over every bucket of the call. ARGV: 1 to take (0 to only ask), then burst and
 * rate per key. Returns 0 when taken, else the ms until one token of each could be. A bucket's key
 * expires once it would be full again: a full bucket holds no information.
 */
const TAKE = new LuaScript(`${REDIS_NOW_MS}
local take = tonumber(ARGV[1])
local wait = 0
local tokens = {}
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 't', 'u')
  local held = tonumber(state[1])
  if held == nil then
    held = burst
  else
    held = math.min(burst, held + (now - tonumber(state[2])) / 1000 * rate)
  end
  tokens[i] = held
  if held < 1 then wait = math.max(wait, math.ceil((1 - held) / rate * 1000)) end
end
if wait > 0 or take == 0 then return wait end
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local left = tokens[i] - 1
  redis.call('HSET', key, 't', tostring(left), 'u', now)
  redis.call('PEXPIRE', key, math.ceil((burst - left) / rate * 1000) + 1000)
end
return 0`);

/** Token buckets shared by every node, in Redis. */
export class RedisTokenBucketStore implements TokenBucketStore {
  constructor(private readonly link: RedisLink) {}

  take(buckets: readonly BucketSpec[]): Promise<number> {
    return this.run(1, buckets);
  }

  wait(buckets: readonly BucketSpec[]): Promise<number> {
    return this.run(0, buckets);
  }

  private async run(take: 0 | 1, buckets: readonly BucketSpec[]): Promise<number> {
    const keys = buckets.map((bucket) => `${this.link.settings.keyPrefix}bucket:${bucket.key}`);
    const args = [take, ...buckets.flatMap((bucket) => [bucket.burst, bucket.perSecond])];
    return Number(await TAKE.run(this.link.client, keys, args));
  }
}

/**
 * The Redis buckets while Redis answers; this node's own buckets while it does not, so an outage
 * never refuses or stalls a call. Meanwhile a user spread over N nodes may get up to N times
 * their rate (docs/scaling.md).
 */
export class FallbackTokenBucketStore implements TokenBucketStore {
  constructor(
    private readonly link: RedisLink,
    private readonly shared: TokenBucketStore,
    private readonly local: TokenBucketStore,
  ) {}

  take(buckets: readonly BucketSpec[]): number | Promise<number> {
    if (!this.link.isUp) return this.local.take(buckets);
    return Promise.resolve(this.shared.take(buckets)).catch(() => {
      this.link.failed();
      return this.local.take(buckets);
    });
  }

  wait(buckets: readonly BucketSpec[]): number | Promise<number> {
    if (!this.link.isUp) return this.local.wait(buckets);
    return Promise.resolve(this.shared.wait(buckets)).catch(() => {
      this.link.failed();
      return this.local.wait(buckets);
    });
  }
}
