import type { BenchOptions } from './args';
import type { Background, BackgroundProbe } from './background';
import type { GeneratorPool, LoadFigures } from './generator-pool';
import { type CpuProbe, CpuMeter } from './proc-cpu';
import { sleep } from './processes';
import type { RunSpec } from './protocol';

/** Closed-loop throughput and the open-loop rate sweep ("knee"), against one server or one cluster. */

export interface Target {
  /** `cluster`: Duet on several nodes, each pair's two users on different nodes. */
  name: 'relay' | 'duet' | 'cluster';
  /** The server, or every node of the cluster. */
  urls: string[];
  /** The server process (first: the quiet wait watches it), plus PostgreSQL for Duet and Redis for a cluster. */
  probes: CpuProbe[];
  /** Duet and cluster: rows stored under a run's clientMessageId prefix, for duplicate and missing counts. */
  storedRows?: (tag: string) => Promise<{ rows: number; distinct: number }>;
  /** Duet only: checkpoints, autovacuum, WAL, GC pauses and event-loop delay during each run. */
  background?: BackgroundProbe;
}

export interface CpuUse {
  seconds: number | null;
  /** Average cores busy over the run's wall time (1.0 = one core flat out). */
  cores: number | null;
  /** CPU microseconds per message acked ok. */
  usPerMessage: number | null;
}

export interface MeasuredRun extends LoadFigures {
  wallSeconds: number;
  cpu: Record<string, CpuUse>;
  /** Duet: duplicates = rows beyond one per clientMessageId; missing = acked ok but not stored. */
  stored?: { rows: number; duplicates: number; missing: number };
  background?: Background;
}

/** The parts of the run's options the throughput runs read. */
export type ThroughputOptions = Pick<
  BenchOptions,
  'inFlight' | 'closedSeconds' | 'warmupSeconds' | 'drainSeconds' | 'rates' | 'stepSeconds' | 'stepWarmupSeconds' | 'p99BoundMs' | 'referenceRate'
>;

let runCounter = 0;

async function measuredRun(target: Target, pool: GeneratorPool, spec: RunSpec): Promise<MeasuredRun> {
  const mark = await target.background?.begin();
  const meter = new CpuMeter([...target.probes, pool.cpuProbe()]);
  meter.begin();
  const figures = await pool.run(spec);
  const { wallSeconds, cpuSeconds } = meter.end();
  const background = mark && (await target.background!.end(mark, figures.ackOk));
  const cpu: Record<string, CpuUse> = {};
  for (const [label, seconds] of Object.entries(cpuSeconds)) {
    cpu[label] = {
      seconds,
      cores: seconds === null ? null : round(seconds / wallSeconds, 3),
      usPerMessage: seconds === null || !figures.ackOk ? null : round((seconds * 1e6) / figures.ackOk, 1),
    };
  }
  const run: MeasuredRun = { ...figures, wallSeconds, cpu, ...(background && { background }) };
  if (target.storedRows) {
    const { rows, distinct } = await target.storedRows(spec.tag);
    run.stored = { rows, duplicates: rows - distinct, missing: Math.max(0, figures.ackOk - distinct) };
  }
  return run;
}

/** K messages in flight per sender for a fixed time: the most the server sustains with no queue. */
export function closedLoop(target: Target, pool: GeneratorPool, options: ThroughputOptions): Promise<MeasuredRun> {
  return measuredRun(target, pool, {
    mode: 'closed',
    inFlight: options.inFlight,
    warmupMs: options.warmupSeconds * 1000,
    durationMs: options.closedSeconds * 1000,
    drainMs: options.drainSeconds * 1000,
    tag: `${target.name}-c${++runCounter}`,
  });
}

export interface KneeStep extends MeasuredRun {
  rate: number;
  pass: boolean;
  /** Why the step failed, in words. */
  failures: string[];
}

export interface KneeResult {
  steps: KneeStep[];
  /** Highest rate that passed (the issue's definition); null if none did. */
  knee: number | null;
  /** Lower steps that failed although a higher one passed: noise, or a warm-up effect; said out loud. */
  failedBelowKnee: number[];
  stoppedEarly: string | null;
}

function judge(step: MeasuredRun, rate: number, boundMs: number): string[] {
  const failures: string[] = [];
  const p99 = step.e2eLatencyMs.p99;
  if (p99 === null || p99 > boundMs) failures.push(`e2e p99 ${p99 ?? 'n/a'} ms > ${boundMs} ms`);
  if (step.lost) failures.push(`${step.lost} lost`);
  if (step.duplicates) failures.push(`${step.duplicates} duplicate deliveries`);
  if (step.errorCount) failures.push(`${step.errorCount} errors`);
  if (step.stored?.duplicates) failures.push(`${step.stored.duplicates} stored twice`);
  if (step.stored?.missing) failures.push(`${step.stored.missing} acked but not stored`);
  // An open loop that could not even be sent on schedule did not test the rate.
  if (step.sentPerSec < rate * 0.95) failures.push(`generator sent only ${step.sentPerSec}/s`);
  return failures;
}

/**
 * Steps the open-loop rate up. Stops after a step that failed badly (errors, losses, or p99 beyond
 * four times the bound): past that point the server is saturated, each further step only builds a
 * longer queue to drain, and its backlog would spill into the next step anyway. The reference rate
 * (1000 msgs/s, whose p50/p99 the issue asks for) is run even then.
 */
export async function kneeSweep(target: Target, pool: GeneratorPool, options: ThroughputOptions): Promise<KneeResult> {
  const steps: KneeStep[] = [];
  let saturatedAt: number | null = null;
  for (const rate of options.rates) {
    if (saturatedAt !== null && rate !== options.referenceRate) continue;
    const run = await measuredRun(target, pool, {
      mode: 'open',
      rate,
      warmupMs: options.stepWarmupSeconds * 1000,
      durationMs: options.stepSeconds * 1000,
      drainMs: options.drainSeconds * 1000,
      tag: `${target.name}-k${rate}-${++runCounter}`,
    });
    const failures = judge(run, rate, options.p99BoundMs);
    const step: KneeStep = { rate, pass: failures.length === 0, failures, ...run };
    steps.push(step);
    process.stdout.write(
      `  ${target.name} ${rate} msgs/s: e2e p50 ${run.e2eLatencyMs.p50} p99 ${run.e2eLatencyMs.p99} ms, ` +
        `acked ${run.ackedPerSec}/s${step.pass ? '' : ` — ${failures.join(', ')}`}\n`,
    );
    const badly = run.errorCount > 0 || run.lost > 0 || (run.e2eLatencyMs.p99 ?? Infinity) > 4 * options.p99BoundMs;
    if (!step.pass && badly && saturatedAt === null) saturatedAt = rate;
    // A step the server could not keep up with leaves a queue behind: let it drain first.
    await waitQuiet(target.probes[0]!, step.pass ? 1_000 : 30_000);
  }
  const skipped = saturatedAt === null ? [] : options.rates.filter((r) => r > saturatedAt! && r !== options.referenceRate);
  const stoppedEarly = skipped.length ? `saturated at ${saturatedAt} msgs/s; not run: ${skipped.join(', ')}` : null;
  const passed = steps.filter((st) => st.pass).map((st) => st.rate);
  const knee = passed.length ? Math.max(...passed) : null;
  const failedBelowKnee = knee === null ? [] : steps.filter((st) => !st.pass && st.rate < knee).map((st) => st.rate);
  return { steps, knee, failedBelowKnee, stoppedEarly };
}

/** Waits (up to maxMs) until the server process uses under 10 % of a core over 500 ms. */
async function waitQuiet(server: CpuProbe, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  await sleep(Math.min(1_000, maxMs));
  while (performance.now() < deadline) {
    const before = server.seconds();
    await sleep(500);
    const after = server.seconds();
    if (before === null || after === null || after - before < 0.05) return;
  }
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
