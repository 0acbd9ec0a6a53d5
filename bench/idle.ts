import { GeneratorPool } from './generator-pool';
import { CpuMeter, groupProbe, processProbe, rssBytes } from './proc-cpu';
import { sleep } from './processes';
import type { BenchUser } from './protocol';

/**
 * Idle connections: what each authenticated, idle socket costs the server in memory, and how fast
 * sockets can be opened (handshake auth, room join, Duet's presence bookkeeping).
 */

export interface IdleFigures {
  requested: number;
  connected: number;
  failed: number;
  errors: Record<string, number>;
  connectSeconds: number;
  /** Sockets per second, from the first connect attempt to the last success, all processes together. */
  connectRate: number;
  /** The server's, or the sum of a cluster's nodes. */
  rssBeforeBytes: number | null;
  rssAfterBytes: number | null;
  /** (RSS after − RSS before) / connected. */
  rssPerSocketBytes: number | null;
  /** A cluster's Redis: what its RSS grew by per socket (online users and presence live there). */
  redisRssPerSocketBytes?: number | null;
  generatorProcesses: number;
  /**
   * CPU seconds while connecting (server: every node of a cluster; redis: a cluster's): socket.io-client
   * costs about as much per handshake as the server.
   */
  connectCpuSeconds: Record<string, number | null>;
}

/** What the sockets connect to, and whose memory and CPU they cost. */
export interface IdleTarget {
  /** The server, or a cluster's nodes (users spread evenly over them). */
  urls: string[];
  /** The server process, or every node's: RSS and CPU are their sums. */
  pids: number[];
  /** A cluster's Redis, when /proc shows it: its RSS and CPU are reported apart. */
  redisPid?: number | null;
}

export interface IdleOptions {
  /** Sockets per generator process: each socket is a descriptor on the client side too. */
  perProcess: number;
  /** Handshakes in flight per generator process. */
  concurrency: number;
  /** Wait after the last connect before reading RSS: presence writes and allocations settle. */
  settleMs: number;
  /** Sockets opened and closed first, so one-time start-up allocations do not count per socket. */
  warmupSockets: number;
}

/**
 * Median of a few readings of the processes' summed RSS: one reading can catch the heap mid-growth
 * or mid-collection.
 */
async function sampleRss(pids: readonly number[], count: number, gapMs: number): Promise<number | null> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const each = pids.map(rssBytes);
    if (pids.length && !each.includes(null)) samples.push((each as number[]).reduce((a, b) => a + b, 0));
    if (i < count - 1) await sleep(gapMs);
  }
  if (!samples.length) return null;
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function measureIdle(target: IdleTarget, users: BenchUser[], options: IdleOptions): Promise<IdleFigures> {
  const { urls, pids } = target;
  const redis = target.redisPid ? [target.redisPid] : [];
  // A whole number of processes per node, so that every node gets the same share of the sockets.
  const processes = Math.ceil(Math.max(2, Math.ceil(users.length / options.perProcess)) / urls.length) * urls.length;
  const nofile = options.perProcess + 4096;

  if (options.warmupSockets > 0) {
    const warm = GeneratorPool.start(Math.max(2, urls.length), nofile);
    try {
      await warm.connectIdle(urls, users.slice(0, options.warmupSockets), options.concurrency);
    } finally {
      await warm.close();
    }
    await sleep(options.settleMs);
  }

  const pool = GeneratorPool.start(processes, nofile);
  try {
    const [rssBeforeBytes, redisBeforeBytes] = await Promise.all([sampleRss(pids, 5, 200), sampleRss(redis, 5, 200)]);
    const meter = new CpuMeter([
      groupProbe('server', pids.map((pid, i) => processProbe(`server-${i}`, pid))),
      pool.cpuProbe(),
      ...redis.map((pid) => processProbe('redis', pid)),
    ]);
    meter.begin();
    const result = await pool.connectIdle(urls, users, options.concurrency);
    const { cpuSeconds } = meter.end();
    await sleep(options.settleMs);
    const [rssAfterBytes, redisAfterBytes] = await Promise.all([sampleRss(pids, 5, 200), sampleRss(redis, 5, 200)]);
    const perSocket = (before: number | null, after: number | null) =>
      before !== null && after !== null && result.connected ? Math.round((after - before) / result.connected) : null;
    const connectSeconds = Math.max(0.001, (result.finishedAt - result.startedAt) / 1000);
    return {
      requested: users.length,
      connected: result.connected,
      failed: result.failed,
      errors: result.errors,
      connectSeconds: Math.round(connectSeconds * 1000) / 1000,
      connectRate: Math.round(result.connected / connectSeconds),
      rssBeforeBytes,
      rssAfterBytes,
      rssPerSocketBytes: perSocket(rssBeforeBytes, rssAfterBytes),
      ...(redis.length && { redisRssPerSocketBytes: perSocket(redisBeforeBytes, redisAfterBytes) }),
      generatorProcesses: processes,
      connectCpuSeconds: cpuSeconds,
    };
  } finally {
    await pool.close();
  }
}
