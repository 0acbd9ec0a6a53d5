import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchDb } from './db';
import { fetchMetrics } from './prom-text';

/**
 * What else happened while a step was measured, on Duet's side: PostgreSQL's checkpoints and
 * autovacuum runs and the WAL written (from the statistics views), and the server's GC pauses and
 * worst event-loop delay (from Duet's own /metrics, prom-client's default metrics). Beside them, two
 * machine-wide signs: CPU time the hypervisor took from this VM (steal, /proc/stat), and the worst
 * event-loop delay of this harness process, which does almost nothing during a run, so a long delay
 * there means the whole machine stalled, not Duet. A latency tail lines up with one of these or not.
 */
export interface Background {
  checkpoints: number;
  autovacuums: number;
  autoanalyzes: number;
  walBytesPerMessage: number | null;
  gcPauses: number;
  /** GC pauses of 10 ms or more (prom-client's histogram bucket boundary). */
  gcPausesOver10ms: number;
  gcPauseMs: number;
  /** The longest the event loop was late over the step; null when /metrics did not say. */
  maxEventLoopDelayMs: number | null;
  /** Duet's V8 heap in use at the end of the step, MiB. */
  heapUsedMiB: number | null;
  /** This (nearly idle) harness process's worst event-loop delay over the step. */
  harnessMaxEventLoopDelayMs: number;
  /** CPU time stolen from this VM by the hypervisor, all cores together; null without /proc/stat. */
  stealMs: number | null;
}

interface Mark {
  pg: PgCounters;
  gc: GcCounters;
  stealTicks: number | null;
}

interface PgCounters {
  checkpoints: number;
  autovacuums: number;
  autoanalyzes: number;
  walLsn: string;
}

interface GcCounters {
  count: number;
  under10ms: number;
  seconds: number;
  maxLagSeconds: number | null;
  heapUsedBytes: number | null;
}

export class BackgroundProbe {
  private checkpointQuery?: string;
  private readonly harnessDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly db: BenchDb,
    private readonly metricsUrl: string,
  ) {}

  /** Reads the counters; reading /metrics also restarts prom-client's event-loop delay window. */
  async begin(): Promise<Mark> {
    const mark = { pg: await this.pgCounters(), gc: await this.gcCounters(), stealTicks: stealTicks() };
    this.harnessDelay.reset();
    this.harnessDelay.enable();
    return mark;
  }

  async end(mark: Mark, messages: number): Promise<Background> {
    this.harnessDelay.disable();
    const steal = stealTicks();
    const [pg, gc] = [await this.pgCounters(), await this.gcCounters()];
    const { bytes } = await this.db.one<{ bytes: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes', [
      pg.walLsn,
      mark.pg.walLsn,
    ]);
    return {
      checkpoints: pg.checkpoints - mark.pg.checkpoints,
      autovacuums: pg.autovacuums - mark.pg.autovacuums,
      autoanalyzes: pg.autoanalyzes - mark.pg.autoanalyzes,
      walBytesPerMessage: messages ? Math.round(Number(bytes) / messages) : null,
      gcPauses: gc.count - mark.gc.count,
      gcPausesOver10ms: gc.count - gc.under10ms - (mark.gc.count - mark.gc.under10ms),
      gcPauseMs: Math.round((gc.seconds - mark.gc.seconds) * 1000),
      maxEventLoopDelayMs: gc.maxLagSeconds === null ? null : Math.round(gc.maxLagSeconds * 10_000) / 10,
      heapUsedMiB: gc.heapUsedBytes === null ? null : Math.round(gc.heapUsedBytes / 2 ** 20),
      harnessMaxEventLoopDelayMs: Math.round(this.harnessDelay.max / 1e5) / 10,
      stealMs: steal === null || mark.stealTicks === null ? null : (steal - mark.stealTicks) * TICK_MS,
    };
  }

  private async pgCounters(): Promise<PgCounters> {
    // PostgreSQL 17 moved the checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer.
    this.checkpointQuery ??= (await this.db.one<{ found: boolean }>("SELECT to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL AS found")).found
      ? 'SELECT num_timed + num_requested FROM pg_stat_checkpointer'
      : 'SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter';
    const row = await this.db.one<{ checkpoints: string; autovacuums: string; autoanalyzes: string; lsn: string }>(
      `SELECT (${this.checkpointQuery})::text AS checkpoints,
              (SELECT coalesce(sum(autovacuum_count), 0) FROM pg_stat_user_tables)::text AS autovacuums,
              (SELECT coalesce(sum(autoanalyze_count), 0) FROM pg_stat_user_tables)::text AS autoanalyzes,
              pg_current_wal_lsn()::text AS lsn`,
    );
    return { checkpoints: Number(row.checkpoints), autovacuums: Number(row.autovacuums), autoanalyzes: Number(row.autoanalyzes), walLsn: row.lsn };
  }

  private async gcCounters(): Promise<GcCounters> {
    const m = await fetchMetrics(this.metricsUrl);
    return {
      count: m.sum('nodejs_gc_duration_seconds_count'),
      under10ms: m.sum('nodejs_gc_duration_seconds_bucket', 'le="0.01"'),
      seconds: m.sum('nodejs_gc_duration_seconds_sum'),
      maxLagSeconds: m.gauge('nodejs_eventloop_lag_max_seconds'),
      heapUsedBytes: m.gauge('nodejs_heap_size_used_bytes'),
    };
  }
}

/** /proc/stat counts in USER_HZ ticks, 100 per second on Linux. */
const TICK_MS = 10;

/** The machine's steal time so far (the 8th number of the `cpu` line), in ticks. */
function stealTicks(): number | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const steal = Number(fields[8]);
    return Number.isFinite(steal) ? steal : null;
  } catch {
    return null;
  }
}
