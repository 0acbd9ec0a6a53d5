import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Reply = number | string | null | Reply[];

/**
 * A Lua script run by its SHA, loaded on first use and again whenever Redis has forgotten it
 * (a restart): one round trip in the usual case, and atomic on the server.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<Reply> {
    try {
      return (await client.evalsha(this.sha, keys.length, ...keys, ...args)) as Reply;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return (await client.eval(this.source, keys.length, ...keys, ...args)) as Reply;
    }
  }
}

/** Redis's own clock in ms, inside a script: one clock for every node. */
export const REDIS_NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;
