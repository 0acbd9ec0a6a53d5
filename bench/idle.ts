import { GeneratorPool } from './generator-pool';
import { CpuMeter, processProbe, rssBytes } from './proc-cpu';
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
  rssBeforeBytes: number | null;
  rssAfterBytes: number | null;
  /** (RSS after − RSS before) / connected. */
  rssPerSocketBytes: number | null;
  generatorProcesses: number;
  /** CPU seconds while connecting: socket.io-client costs about as much per handshake as the server. */
  connectCpuSeconds: Record<string, number | null>;
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

/** Median of a few RSS readings: one reading can catch the heap mid-growth or mid-collection. */
async function sampleRss(pid: number, count: number, gapMs: number): Promise<number | null> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const rss = rssBytes(pid);
    if (rss !== null) samples.push(rss);
    if (i < count - 1) await sleep(gapMs);
  }
  if (!samples.length) return null;
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function measureIdle(url: string, serverPid: number, users: BenchUser[], options: IdleOptions): Promise<IdleFigures> {
  const processes = Math.max(2, Math.ceil(users.length / options.perProcess));
  const nofile = options.perProcess + 4096;

  if (options.warmupSockets > 0) {
    const warm = GeneratorPool.start(2, nofile);
    try {
      await warm.connectIdle(url, users.slice(0, options.warmupSockets), options.concurrency);
    } finally {
      await warm.close();
    }
    await sleep(options.settleMs);
  }

  const pool = GeneratorPool.start(processes, nofile);
  try {
    const rssBeforeBytes = await sampleRss(serverPid, 5, 200);
    const meter = new CpuMeter([processProbe('server', serverPid), pool.cpuProbe()]);
    meter.begin();
    const result = await pool.connectIdle(url, users, options.concurrency);
    const { cpuSeconds } = meter.end();
    await sleep(options.settleMs);
    const rssAfterBytes = await sampleRss(serverPid, 5, 200);
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
      rssPerSocketBytes:
        rssBeforeBytes !== null && rssAfterBytes !== null && result.connected
          ? Math.round((rssAfterBytes - rssBeforeBytes) / result.connected)
          : null,
      generatorProcesses: processes,
      connectCpuSeconds: cpuSeconds,
    };
  } finally {
    await pool.close();
  }
}
