import type { PresenceAction } from '../presence/presence-rules';
import { MemoryPresenceStore, type PresenceStore, type SweptUser } from '../presence/presence-store';
import { LuaScript, REDIS_NOW_MS } from './lua-script';
import type { RedisLink } from './redis-link';

/*
 * Cluster-wide presence (docs/scaling.md, "Presence"). Per user, a hash `presence:user:<id>` with
 * one field per node holding the user's socket count there, and `on` while the user counts as
 * online for everyone (from the first socket until the grace period after the last one is over).
 * Per node, `presence:node:<id>` mirrors its counts, so that a dead node's share can be removed;
 * `presence:nodes` scores each node by when its heartbeat expires; `presence:leaving` scores each
 * user whose last socket left by when their grace period ends. Only transitions announce: the
 * script that sets `on` (first socket anywhere) or removes it (grace over, no socket anywhere)
 * is the one caller that gets told to announce, whichever node it runs on.
 */

/**
 * KEYS: user, node, leaving, nodes. ARGV: node id, user id, heartbeat ttl ms. 1: the user just came
 * online. A node that counts a socket has a heartbeat from then on, even before its first sweep:
 * otherwise a node dying within its first sweep interval would keep its users online forever.
 */
const CONNECTED = new LuaScript(`${REDIS_NOW_MS}
local announced = redis.call('HEXISTS', KEYS[1], 'on')
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[1], 'on', 1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], 'NX', now + tonumber(ARGV[3]), ARGV[1])
return 1 - announced`);

/** KEYS: user, node, leaving. ARGV: node id, user id, grace ms. 1: their last socket anywhere left. */
const DISCONNECTED = new LuaScript(`${REDIS_NOW_MS}
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
if redis.call('HLEN', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'on') == 1 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
  return 1
end
return 0`);

/** Ends a user's grace period if no node holds a socket of theirs. KEYS: user, leaving. ARGV: user id. */
const SETTLE_IF_GONE = `local function settle(userKey, leaving, userId)
  redis.call('ZREM', leaving, userId)
  if redis.call('HLEN', userKey) == 1 and redis.call('HEXISTS', userKey, 'on') == 1 then
    redis.call('DEL', userKey)
    return true
  end
  return false
end`;

const GRACE_EXPIRED = new LuaScript(`${SETTLE_IF_GONE}
if settle(KEYS[1], KEYS[2], ARGV[1]) then return 1 end
return 0`);

/**
 * KEYS: nodes, leaving. ARGV: key prefix, grace ms, most users settled per run, heartbeat ms.
 * Takes the share of every node whose heartbeat expired off its users (due at once, as having left
 * at its last heartbeat: its time to live is longer than a grace period), then settles every user
 * whose grace is over. Returns pairs of user id and when they left (ms).
 */
const SWEEP = new LuaScript(`${REDIS_NOW_MS}
${SETTLE_IF_GONE}
local prefix = ARGV[1]
local grace = tonumber(ARGV[2])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 10)
for i = 1, #dead, 2 do
  local node = dead[i]
  local nodeKey = prefix .. 'presence:node:' .. node
  redis.call('ZREM', KEYS[1], node)
  for _, userId in ipairs(redis.call('HKEYS', nodeKey)) do
    local userKey = prefix .. 'presence:user:' .. userId
    redis.call('HDEL', userKey, node)
    if redis.call('HLEN', userKey) == 1 and redis.call('HEXISTS', userKey, 'on') == 1 then
      redis.call('ZADD', KEYS[2], 'NX', tonumber(dead[i + 1]) - tonumber(ARGV[4]) + grace, userId)
    end
  end
  redis.call('DEL', nodeKey)
end
local settled = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #due, 2 do
  if settle(prefix .. 'presence:user:' .. due[i], KEYS[2], due[i]) then
    table.insert(settled, due[i])
    table.insert(settled, tostring(tonumber(due[i + 1]) - grace))
  end
end
return settled`);

/** KEYS: nodes. ARGV: node id, ms until it counts as dead. 1: the node was not there (new, or swept as dead). */
const HEARTBEAT = new LuaScript(`${REDIS_NOW_MS}
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])`);

/**
 * KEYS: node, leaving, nodes. ARGV: key prefix, node id, grace ms, heartbeat ms, then user id and
 * count pairs. Makes Redis hold this node's sockets as it knows them (after an outage, in which
 * Redis may have lost everything). A user who left this node meanwhile and has no socket anywhere
 * starts a grace period, so that the sweep announces them offline (no node would otherwise).
 * Every node's heartbeat then runs from now: the others were cut off too and may not have rejoined
 * yet, and must not be swept as dead (their users announced offline) meanwhile. Returns the users
 * it brings online (Redis had lost them, or a sweep had taken them offline while this node was cut off).
 */
const RESYNC = new LuaScript(`${REDIS_NOW_MS}
local prefix = ARGV[1]
local node = ARGV[2]
local alive = now + tonumber(ARGV[4])
for _, other in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  redis.call('ZADD', KEYS[3], 'GT', alive, other)
end
redis.call('ZADD', KEYS[3], alive, node)
local before = redis.call('HKEYS', KEYS[1])
for _, userId in ipairs(before) do
  redis.call('HDEL', prefix .. 'presence:user:' .. userId, node)
end
redis.call('DEL', KEYS[1])
local arrived = {}
for i = 5, #ARGV, 2 do
  local userKey = prefix .. 'presence:user:' .. ARGV[i]
  if redis.call('HEXISTS', userKey, 'on') == 0 then table.insert(arrived, ARGV[i]) end
  redis.call('HSET', userKey, node, ARGV[i + 1], 'on', 1)
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for _, userId in ipairs(before) do
  local userKey = prefix .. 'presence:user:' .. userId
  if redis.call('HLEN', userKey) == 1 and redis.call('HEXISTS', userKey, 'on') == 1 then
    redis.call('ZADD', KEYS[2], 'NX', now + tonumber(ARGV[3]), userId)
  end
end
return arrived`);

export interface ClusterPresenceOptions {
  nodeId: string;
  graceMs: number;
  /** A node whose heartbeat is older than this is dead: its users leave (API.md: within 30 s). */
  heartbeatTtlMs: number;
  /** This node was swept as dead while it held sockets: Redis must learn them again (a rejoin). */
  onOrphaned(): void;
}

const presenceUserKey = (prefix: string, userId: number): string => `${prefix}presence:user:${userId}`;

/**
 * The users among `userIds` with a socket connected on some node right now, in one round trip. A
 * user's hash holds a count per node besides `on`; in the grace period after their last socket
 * only `on` is left, which does not count here (webhooks' `receiverOnline`, API.md).
 */
export async function usersWithSockets(link: RedisLink, userIds: readonly number[]): Promise<Set<number>> {
  if (!userIds.length) return new Set();
  const pipeline = link.client.pipeline();
  for (const userId of userIds) pipeline.hlen(presenceUserKey(link.settings.keyPrefix, userId));
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([err]) => err);
  if (failed || replies.length !== userIds.length) throw failed?.[0] ?? new Error('Redis gave no answer for the presence lookup');
  return new Set(userIds.filter((_, i) => Number(replies[i]![1]) > 1));
}

/** Most users one sweep settles; the next sweep takes the rest. */
const SWEEP_BATCH = 1000;

/**
 * Presence over every node, in Redis. This node's own sockets are also kept in memory: while
 * Redis is away its answers come from there (presence between users of this node), and when Redis
 * is back they are written there again (resync).
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly local = new MemoryPresenceStore();
  private readonly keys: { nodes: string; leaving: string; node: string };

  constructor(
    private readonly link: RedisLink,
    private readonly options: ClusterPresenceOptions,
  ) {
    const prefix = link.settings.keyPrefix;
    this.keys = {
      nodes: `${prefix}presence:nodes`,
      leaving: `${prefix}presence:leaving`,
      node: `${prefix}presence:node:${options.nodeId}`,
    };
  }

  async connected(userId: number, socketId: string): Promise<PresenceAction> {
    const local = await this.local.connected(userId, socketId);
    return this.shared(local, async () => {
      const keys = [this.userKey(userId), this.keys.node, this.keys.leaving, this.keys.nodes];
      const reply = await CONNECTED.run(this.link.client, keys, [this.options.nodeId, userId, this.options.heartbeatTtlMs]);
      return reply === 1 ? 'announce-online' : 'nothing';
    });
  }

  async disconnected(userId: number, socketId: string): Promise<PresenceAction> {
    const local = await this.local.disconnected(userId, socketId);
    const action = await this.shared(local, async () => {
      const keys = [this.userKey(userId), this.keys.node, this.keys.leaving];
      const reply = await DISCONNECTED.run(this.link.client, keys, [this.options.nodeId, userId, this.options.graceMs]);
      return reply === 1 ? 'start-grace' : 'nothing';
    });
    // Still online elsewhere: this node's own view must not keep them as leaving.
    if (local === 'start-grace' && action !== 'start-grace') await this.local.graceExpired(userId);
    return action;
  }

  async graceExpired(userId: number): Promise<PresenceAction> {
    const local = await this.local.graceExpired(userId);
    return this.shared(local, async () => {
      const reply = await GRACE_EXPIRED.run(this.link.client, [this.userKey(userId), this.keys.leaving], [userId]);
      return reply === 1 ? 'announce-offline' : 'nothing';
    });
  }

  async online(userIds: readonly number[]): Promise<Set<number>> {
    const local = await this.local.online(userIds);
    if (!this.link.isUp || userIds.length === 0) return local;
    try {
      const pipeline = this.link.client.pipeline();
      for (const userId of userIds) pipeline.hexists(this.userKey(userId), 'on');
      const replies = (await pipeline.exec()) ?? [];
      return new Set(userIds.filter((_, i) => replies[i]?.[1] === 1));
    } catch {
      this.link.failed();
      return local;
    }
  }

  /**
   * Renews this node's heartbeat. A node that finds itself gone from Redis while it holds sockets
   * (swept as dead: cut off, or stalled, longer than a heartbeat lives) calls `onOrphaned`.
   */
  async heartbeat(): Promise<void> {
    if (!this.link.isUp) return;
    const added = await HEARTBEAT.run(this.link.client, [this.keys.nodes], [this.options.nodeId, this.options.heartbeatTtlMs]);
    if (added === 1 && this.local.socketCounts().length > 0) this.options.onOrphaned();
  }

  /** Users whose grace ended without a socket anywhere, among them the users of dead nodes. */
  async sweep(): Promise<SweptUser[]> {
    if (!this.link.isUp) return [];
    const args = [this.link.settings.keyPrefix, this.options.graceMs, SWEEP_BATCH, this.options.heartbeatTtlMs];
    const reply = (await SWEEP.run(this.link.client, [this.keys.nodes, this.keys.leaving], args)) as string[];
    const swept: SweptUser[] = [];
    for (let i = 0; i < reply.length; i += 2) swept.push({ userId: Number(reply[i]), at: new Date(Number(reply[i + 1])) });
    return swept;
  }

  /** After an outage: Redis holds this node's sockets as this node knows them. Returns who that brought online. */
  async resync(): Promise<number[]> {
    const counts = this.local.socketCounts();
    const args: Array<string | number> = [this.link.settings.keyPrefix, this.options.nodeId, this.options.graceMs, this.options.heartbeatTtlMs];
    for (const [userId, count] of counts) args.push(userId, count);
    const arrived = (await RESYNC.run(this.link.client, [this.keys.node, this.keys.leaving, this.keys.nodes], args)) as string[];
    return arrived.map(Number);
  }

  /**
   * On a clean shutdown, after this node's sockets have left: its heartbeat ends a grace period
   * from now, so its users who reconnect elsewhere meanwhile are never announced offline.
   */
  async leave(): Promise<void> {
    if (!this.link.isUp) return;
    await HEARTBEAT.run(this.link.client, [this.keys.nodes], [this.options.nodeId, this.options.graceMs]).catch(() => undefined);
  }

  private userKey(userId: number): string {
    return presenceUserKey(this.link.settings.keyPrefix, userId);
  }

  /** Redis's answer while it answers; this node's own answer otherwise. */
  private async shared(local: PresenceAction, remote: () => Promise<PresenceAction>): Promise<PresenceAction> {
    if (!this.link.isUp) return local;
    try {
      return await remote();
    } catch {
      this.link.failed();
      return local;
    }
  }
}
