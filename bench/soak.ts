import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import type { ClientProcesses } from './client-processes';
import { type BenchDb, tokensFor } from './db';
import { openFileLimit, requireOpenFiles, requirePorts } from './descriptor-limits';
import { CpuMeter, postgresProbe, processProbe } from './proc-cpu';
import { sleep } from './processes';
import type { Pair } from './protocol';
import { type ServerSample, sampleServer } from './server-sampler';
import type { ServerHandle } from './servers';
import { SoakPool, type SoakTraffic } from './soak-pool';

/**
 * The soak: many sockets held for a long time under a light, steady send load, to show that Duet
 * neither leaks memory nor drops sockets or messages over time. Memory is compared between a window
 * right after the warm-up and the last window of the run, each the median of several samples (one
 * reading can catch the heap just before or just after a collection).
 */

export interface SoakOptions {
  sockets: number;
  /** Measured time, after the warm-up. */
  minutes: number;
  /** Load and sockets settle first: JIT, caches, the first message of each pair creates its conversation. */
  warmupSeconds: number;
  /** Messages per second, all pairs together. */
  rate: number;
  sampleSeconds: number;
  /** At most this many sockets per client process, and at least this many processes. */
  perProcess: number;
  minProcesses: number;
  /** Handshakes in flight per client process. */
  concurrency: number;
  drainSeconds: number;
  /** Largest allowed growth of RSS and heap from the start window to the end window (0.1 = 10 %). */
  maxGrowth: number;
}

/** Medians over one window of samples, and the retained heap's floor. */
export interface MemoryWindow {
  fromSeconds: number;
  toSeconds: number;
  samples: number;
  rssMiB: number | null;
  heapUsedMiB: number | null;
  /**
   * The lowest reading of the heap outside the young generation (old space, code, large objects):
   * what survived the collections. Heap used swings by a quarter between major collections, so its
   * median depends on where they fall in the window; this floor does not.
   */
  retainedHeapMiB: number | null;
  /** Major collections within the window: without one, the floor is not what survived. */
  majorCollections: number;
  heapTotalMiB: number | null;
  externalMiB: number | null;
  heapSpacesMiB: Record<string, number>;
}

export interface SoakFigures {
  options: SoakOptions;
  clientProcesses: number;
  openFileLimits: { server: number | null; clients: (number | null)[] };
  connect: { requested: number; connected: number; failed: number; errors: Record<string, number>; seconds: number; rate: number };
  start: MemoryWindow;
  end: MemoryWindow;
  /** end / start − 1; null when a side is missing. */
  growth: { rss: number | null; heapUsed: number | null; retainedHeap: number | null };
  /** Duet's worst event-loop delay after the warm-up, and during it. */
  worstLoopDelayMs: number | null;
  worstLoopP99Ms: number | null;
  warmupWorstLoopDelayMs: number | null;
  /** This nearly idle harness's worst delay after the warm-up: a long one means the machine stalled. */
  harnessWorstLoopDelayMs: number;
  gcAfterWarmup: { count: number; seconds: number };
  cpuCores: Record<string, number | null>;
  traffic: SoakTraffic;
  /** Rows stored under the soak's clientMessageIds: duplicates and acked-but-missing. */
  stored: { rows: number; duplicates: number; missing: number };
  loadAverage: { start: number[]; end: number[]; highest1m: number };
  samples: ServerSample[];
}

export interface SoakContext {
  duet: ServerHandle;
  db: BenchDb;
  secret: string;
  tag: string;
  /** Where the client processes are registered, so that Ctrl-C kills them. */
  pools: Set<ClientProcesses>;
  say: (line: string) => void;
}

export async function runSoak(ctx: SoakContext, options: SoakOptions): Promise<SoakFigures> {
  const { duet, db, say } = ctx;
  const pairCount = Math.floor(options.sockets / 2);
  const sockets = pairCount * 2;
  const serverLimit = openFileLimit(duet.pid);
  // The database pool, log files and listening sockets come on top of the clients' sockets.
  requireOpenFiles("Duet's server process", serverLimit, sockets + 1_024);
  requirePorts(sockets);

  const ids = await db.createUsers(`bench-soak-${ctx.tag}-`, sockets);
  const users = tokensFor(ids, ctx.secret);
  const pairs: Pair[] = Array.from({ length: pairCount }, (_, i) => ({ sender: users[2 * i]!, receiver: users[2 * i + 1]! }));
  const processes = Math.max(options.minProcesses, Math.ceil(sockets / options.perProcess));
  const pool = SoakPool.start(processes, Math.ceil(sockets / processes) + 1_024);
  ctx.pools.add(pool);
  try {
    say(`soak: connecting ${sockets.toLocaleString('en')} sockets from ${processes} processes`);
    const connected = await pool.connect(duet.url, pairs, options.concurrency);
    const connectSeconds = Math.max(0.001, (connected.finishedAt - connected.startedAt) / 1000);
    say(`  ${connected.connected} connected at ${Math.round(connected.connected / connectSeconds)}/s${connected.failed ? `, ${connected.failed} failed ${JSON.stringify(connected.errors)}` : ''}`);
    if (!connected.connected) throw new Error(`no soak socket connected: ${JSON.stringify(connected.errors)}`);

    const warmupMs = options.warmupSeconds * 1000;
    const sendMs = warmupMs + options.minutes * 60_000;
    const tag = `soak-${ctx.tag}`;
    say(`soak: ${options.rate} msgs/s over ${pairCount.toLocaleString('en')} pairs, ${options.warmupSeconds} s warm-up, then ${options.minutes} min measured`);
    const loadAverageStart = roundAll(os.loadavg());
    const postmaster = await db.postmasterPid();
    const meter = new CpuMeter([processProbe('duet', duet.pid), ...(postmaster ? [postgresProbe(postmaster)] : []), pool.cpuProbe()]);
    const harness = monitorEventLoopDelay({ resolution: 10 });

    const startedAt = performance.now();
    const sending = pool.send({ rate: options.rate, sendMs, warmupMs, drainMs: options.drainSeconds * 1000, tag });
    const samples: ServerSample[] = [];
    let warm = false;
    let lastReport = 0;
    // Samples until the sending ends; a failed send (a client died) ends the loop through `stopped`.
    let stopped = false;
    sending.catch(() => (stopped = true));
    while (!stopped) {
      const t = (performance.now() - startedAt) / 1000;
      samples.push(await sampleServer(duet.pid, `${duet.url}/metrics`, t));
      if (!warm && t >= options.warmupSeconds) {
        warm = true;
        meter.begin();
        harness.enable();
      }
      if (t - lastReport >= 60) {
        lastReport = t;
        const s = samples[samples.length - 1]!;
        say(`  ${formatClock(t)} of ${formatClock(sendMs / 1000)}: RSS ${s.rssMiB} MiB, heap ${s.heapUsedMiB} MiB (old space ${s.heapSpacesMiB.old ?? '—'}), loop max ${s.loopMaxMs} ms, handles ${s.activeHandles}, load ${s.load1}`);
      }
      const next = startedAt + (samples.length * options.sampleSeconds * 1000);
      if (next - startedAt > sendMs) break;
      await sleep(Math.max(0, next - performance.now()));
    }
    harness.disable();
    const cpu = warm ? meter.end() : undefined;
    const traffic = await sending;
    const stored = await storedRows(db, ids, tag, traffic.ackOk);
    say(`  sent ${traffic.sent}, acked ${traffic.ackOk}, delivered ${traffic.delivered}, lost ${traffic.lost}, duplicates ${traffic.duplicates}, dropped ${traffic.dropped}`);

    const windowSeconds = Math.min(60, (options.minutes * 60) / 5);
    const measuredEnd = sendMs / 1000;
    const start = memoryWindow(samples, options.warmupSeconds, options.warmupSeconds + windowSeconds);
    const end = memoryWindow(samples, measuredEnd - windowSeconds, measuredEnd);
    const after = samples.filter((s) => s.t > options.warmupSeconds);
    const during = samples.filter((s) => s.t <= options.warmupSeconds);
    return {
      options,
      clientProcesses: processes,
      openFileLimits: { server: serverLimit === Infinity ? null : serverLimit, clients: connected.openFileLimits },
      connect: {
        requested: sockets,
        connected: connected.connected,
        failed: connected.failed,
        errors: connected.errors,
        seconds: Math.round(connectSeconds * 10) / 10,
        rate: Math.round(connected.connected / connectSeconds),
      },
      start,
      end,
      growth: {
        rss: growth(start.rssMiB, end.rssMiB),
        heapUsed: growth(start.heapUsedMiB, end.heapUsedMiB),
        retainedHeap: growth(start.retainedHeapMiB, end.retainedHeapMiB),
      },
      worstLoopDelayMs: maxOf(after.map((s) => s.loopMaxMs)),
      worstLoopP99Ms: maxOf(after.map((s) => s.loopP99Ms)),
      warmupWorstLoopDelayMs: maxOf(during.map((s) => s.loopMaxMs)),
      harnessWorstLoopDelayMs: Math.round(harness.max / 1e5) / 10,
      gcAfterWarmup: after.length
        ? { count: after[after.length - 1]!.gcCount - after[0]!.gcCount, seconds: Math.round((after[after.length - 1]!.gcSeconds - after[0]!.gcSeconds) * 1000) / 1000 }
        : { count: 0, seconds: 0 },
      cpuCores: Object.fromEntries(
        Object.entries(cpu?.cpuSeconds ?? {}).map(([label, seconds]) => [label, seconds === null ? null : Math.round((seconds / cpu!.wallSeconds) * 1000) / 1000]),
      ),
      traffic,
      stored,
      loadAverage: { start: loadAverageStart, end: roundAll(os.loadavg()), highest1m: Math.max(...samples.map((s) => s.load1)) },
      samples,
    };
  } finally {
    await pool.close();
    ctx.pools.delete(pool);
  }
}

async function storedRows(db: BenchDb, senders: number[], tag: string, ackOk: number): Promise<SoakFigures['stored']> {
  const row = await db.one<{ rows: number; distinct: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT (sender_id, client_message_id))::int AS distinct
       FROM messages WHERE sender_id = ANY($1::int[]) AND client_message_id LIKE $2`,
    [senders, `${tag}-%`],
  );
  const rows = Number(row.rows);
  const distinct = Number(row.distinct);
  return { rows, duplicates: rows - distinct, missing: Math.max(0, ackOk - distinct) };
}

function memoryWindow(samples: ServerSample[], from: number, to: number): MemoryWindow {
  const inside = samples.filter((s) => s.t >= from && s.t <= to);
  const spaces = new Set(inside.flatMap((s) => Object.keys(s.heapSpacesMiB)));
  return {
    fromSeconds: Math.round(from),
    toSeconds: Math.round(to),
    samples: inside.length,
    rssMiB: median(inside.map((s) => s.rssMiB)),
    heapUsedMiB: median(inside.map((s) => s.heapUsedMiB)),
    retainedHeapMiB: minOf(inside.map((s) => (s.heapUsedMiB === null ? null : s.heapUsedMiB - youngMiB(s)))),
    majorCollections: inside.length ? inside[inside.length - 1]!.majorGcCount - inside[0]!.majorGcCount : 0,
    heapTotalMiB: median(inside.map((s) => s.heapTotalMiB)),
    externalMiB: median(inside.map((s) => s.externalMiB)),
    heapSpacesMiB: Object.fromEntries([...spaces].map((space) => [space, median(inside.map((s) => s.heapSpacesMiB[space] ?? null)) ?? 0])),
  };
}

function median(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return known.length ? known[Math.floor(known.length / 2)]! : null;
}

/** The young generation: objects not yet promoted, gone at the next scavenge if nothing holds them. */
function youngMiB(sample: ServerSample): number {
  return (sample.heapSpacesMiB.new ?? 0) + (sample.heapSpacesMiB.new_large_object ?? 0);
}

function minOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.round(Math.min(...known) * 10) / 10 : null;
}

function maxOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

function growth(start: number | null, end: number | null): number | null {
  return start === null || end === null || start === 0 ? null : Math.round((end / start - 1) * 1000) / 1000;
}

const roundAll = (values: number[]) => values.map((v) => Math.round(v * 100) / 100);
const formatClock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
