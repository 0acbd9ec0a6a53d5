import os from 'node:os';
import { rssBytes } from './proc-cpu';
import { fetchMetrics } from './prom-text';

/**
 * One look at the Duet server during a soak: its RSS from /proc (as the idle part reads it), and
 * from its /metrics the V8 heap (in total and by space, to tell what grows), the event-loop delay,
 * GC, and how many handles and descriptors it holds.
 */
export interface ServerSample {
  /** Seconds since the soak's load started. */
  t: number;
  rssMiB: number | null;
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  externalMiB: number | null;
  /** V8 heap in use by space (new, old, code, large_object, …), MiB. */
  heapSpacesMiB: Record<string, number>;
  /** Worst and 99th-percentile event-loop delay since the previous sample: reading /metrics restarts prom-client's window. */
  loopMaxMs: number | null;
  loopP99Ms: number | null;
  /** Cumulative since the server started. */
  gcCount: number;
  gcSeconds: number;
  /** Mark-compact collections, cumulative: after one, the old space holds only what survived. */
  majorGcCount: number;
  activeHandles: number | null;
  openFds: number | null;
  /** The machine's 1-minute load average: other engineers' work shows here. */
  load1: number;
}

const MiB = 2 ** 20;
const mib = (bytes: number | null) => (bytes === null ? null : Math.round((bytes / MiB) * 10) / 10);
const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 10_000) / 10);

export async function sampleServer(pid: number, metricsUrl: string, t: number): Promise<ServerSample> {
  const m = await fetchMetrics(metricsUrl);
  const spaces = m.byLabel('nodejs_heap_space_size_used_bytes', 'space');
  return {
    t: Math.round(t * 10) / 10,
    rssMiB: mib(rssBytes(pid)),
    heapUsedMiB: mib(m.gauge('nodejs_heap_size_used_bytes')),
    heapTotalMiB: mib(m.gauge('nodejs_heap_size_total_bytes')),
    externalMiB: mib(m.gauge('nodejs_external_memory_bytes')),
    heapSpacesMiB: Object.fromEntries(Object.entries(spaces).map(([space, bytes]) => [space, mib(bytes)!])),
    loopMaxMs: ms(m.gauge('nodejs_eventloop_lag_max_seconds')),
    loopP99Ms: ms(m.gauge('nodejs_eventloop_lag_p99_seconds')),
    gcCount: m.sum('nodejs_gc_duration_seconds_count'),
    gcSeconds: m.sum('nodejs_gc_duration_seconds_sum'),
    majorGcCount: m.sum('nodejs_gc_duration_seconds_count', 'kind="major"'),
    activeHandles: m.gauge('nodejs_active_handles_total'),
    openFds: m.gauge('process_open_fds'),
    load1: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}
