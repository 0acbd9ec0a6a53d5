import fs from 'node:fs';
import path from 'node:path';
import type { SeedShape } from './seed-bulk';
import type { IdleFigures } from './idle';
import type { MachineInfo } from './machine';
import type { EndpointFigures, ReadEndpoint } from './reads';
import { READ_ENDPOINTS } from './reads';
import { type LatencySummary, ratio } from './stats';
import { fmt, kib, table } from './text-table';
import type { SoakFigures } from './soak';
import { type ClusterInfo, clusterTargets, serviceCpuPerMessage } from './cluster-report';
import { renderKnee, stepAt } from './knee-report';
import { renderSoak, soakTargets } from './soak-report';
import type { KneeResult, KneeStep, MeasuredRun } from './throughput';

/** The results file, the printed tables and the check against the issue's targets. */

/** The read paths the issue's targets name; the page 1,000 back and search are measured, not targeted. */
const TARGET_READS: readonly ReadEndpoint[] = ['history_newest', 'conversation_list', 'unread_count'];

export interface ReadLevel {
  messages: number;
  /** Rows in the messages table at that point (the throughput runs' rows are removed first). */
  messageRows: number;
  seedSeconds: number;
  endpoints: Record<ReadEndpoint, EndpointFigures>;
}

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  profile: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  database: 'embedded' | 'BENCH_DATABASE_URL';
  /** With --nodes N > 1: the cluster the `cluster` runs below were measured on. */
  cluster?: ClusterInfo;
  closedLoop?: { pairs: number; inFlight: number; relay: MeasuredRun; duet: MeasuredRun; cluster?: MeasuredRun };
  knee?: {
    p99BoundMs: number;
    pairs: number;
    relay: KneeResult;
    duet: KneeResult;
    cluster?: KneeResult;
  };
  /** --webhooks: the closed loop without and with webhooks, in the same run. */
  webhooks?: WebhookCost;
  reads?: { shape: SeedShape; levels: ReadLevel[] };
  idle?: IdleRun & {
    /**
     * Connects of users with no conversations, measured after `idle` when its users had some:
     * JWT and user lookup as the issue's target words it, without the presence fan-out.
     */
    withoutPartners?: IdleRun;
  };
  soak?: SoakFigures;
  targets?: TargetCheck[];
  notes: string[];
}

export interface WebhookCost {
  off: MeasuredRun;
  on: MeasuredRun;
  /** on ÷ off acked msgs/s (target ≥ 0.8). */
  ratio: number | null;
  /** The outbox's pending rows, sampled every 250 ms over the run with webhooks on. */
  backlog: { max: number; last: number; firstHalfMax: number; secondHalfMax: number; samples: number };
  /** Seconds after the run until the backlog was empty. */
  drainSeconds: number | null;
  delivered: number;
  /** From the event's commit to its arrival at the receiver, ms. */
  deliveryLatencyMs: LatencySummary;
}

export interface IdleRun {
  users: string;
  relay: IdleFigures;
  duet: IdleFigures;
  /** With --nodes N > 1: the same users spread over the cluster's nodes. */
  cluster?: IdleFigures;
}

export interface TargetCheck {
  target: string;
  want: string;
  must: string | null;
  actual: string;
  /** met: the target; must-met: only the must-have; missed; not-measured. */
  status: 'met' | 'must-met' | 'missed' | 'not-measured';
}


export function evaluateTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, want: string, must: string | null, actual: string, ok: boolean | null, mustOk: boolean | null = ok) =>
    checks.push({ target, want, must, actual, status: ok === null ? 'not-measured' : ok ? 'met' : mustOk ? 'must-met' : 'missed' });

  if (r.closedLoop) {
    const share = ratio(r.closedLoop.duet.ackedPerSec, r.closedLoop.relay.ackedPerSec);
    add(
      `closed loop ${r.closedLoop.pairs} pairs × ${r.closedLoop.inFlight} in flight: Duet acked msgs/s vs relay`,
      '≥ 20 %', '≥ 10 %',
      share === null ? '—' : `${fmt(share * 100)} % (${fmt(r.closedLoop.duet.ackedPerSec)} vs ${fmt(r.closedLoop.relay.ackedPerSec)})`,
      share === null ? null : share >= 0.2, share === null ? null : share >= 0.1,
    );
  } else add('closed loop Duet vs relay', '≥ 20 %', '≥ 10 %', '—', null);

  if (r.webhooks) {
    const w = r.webhooks;
    add(
      'closed loop with webhooks on (receiver answering 204) vs off',
      '≥ 80 %', null,
      w.ratio === null ? '—' : `${fmt(w.ratio * 100)} % (${fmt(w.on.ackedPerSec)} vs ${fmt(w.off.ackedPerSec)}); backlog max ${w.backlog.max}, delivery p99 ${fmt(w.deliveryLatencyMs.p99)} ms`,
      w.ratio === null ? null : w.ratio >= 0.8,
    );
    // Bounded: the second half of the run never holds more than the first half's peak (plus slack for noise).
    add('webhook outbox backlog over the closed loop', 'bounded', null, `max ${w.backlog.firstHalfMax} then ${w.backlog.secondHalfMax}, drained in ${w.drainSeconds ?? '—'} s`,
      w.backlog.secondHalfMax <= Math.max(2 * w.backlog.firstHalfMax, 200) && w.drainSeconds !== null);
  }

  if (r.knee) {
    const knee = r.knee.duet.knee;
    const top = Math.max(...r.knee.duet.steps.map((s) => s.rate), 0);
    add(
      `knee: highest rate with e2e p99 ≤ ${r.knee.p99BoundMs} ms and 0 lost/dup/errors`,
      '≥ 4000 msgs/s', '≥ 2000 msgs/s',
      `${knee ?? 'none'} msgs/s${knee !== null && knee === top ? ' (highest step run)' : ''}` +
        `${r.knee.duet.failedBelowKnee.length ? ` (but ${r.knee.duet.failedBelowKnee.join(', ')} failed)` : ''} (relay: ${r.knee.relay.knee ?? 'none'})`,
      knee === null ? false : knee >= 4000, knee === null ? false : knee >= 2000,
    );
    const s = stepAt(r.knee.duet, 1000);
    add(
      'open loop 1000 msgs/s: e2e p50 / p99',
      '≤ 5 ms / ≤ 20 ms', null,
      s ? `${fmt(s.e2eLatencyMs.p50, 2)} / ${fmt(s.e2eLatencyMs.p99, 2)} ms` : '—',
      s ? (s.e2eLatencyMs.p50 ?? Infinity) <= 5 && (s.e2eLatencyMs.p99 ?? Infinity) <= 20 : null,
    );
    const upTo = r.knee.duet.steps.filter((st) => st.rate <= Math.max(4000, knee ?? 0));
    const bad = upTo.reduce((n, st) => n + st.lost + st.duplicates + st.errorCount + (st.stored?.duplicates ?? 0) + (st.stored?.missing ?? 0), 0);
    add(
      '0 lost / duplicate / errors at every step up to the knee (and up to 4000 msgs/s)',
      '0', null,
      upTo.length ? `${bad} over steps ${upTo.map((st) => st.rate).join(', ')}` : '—',
      upTo.length ? bad === 0 : null,
    );
  } else {
    add('knee', '≥ 4000 msgs/s', '≥ 2000 msgs/s', '—', null);
    add('open loop 1000 msgs/s: e2e p50 / p99', '≤ 5 ms / ≤ 20 ms', null, '—', null);
  }

  if (r.reads && r.reads.levels.length) {
    const first = r.reads.levels[0]!;
    const last = r.reads.levels[r.reads.levels.length - 1]!;
    const worst = Math.max(...TARGET_READS.map((e) => last.endpoints[e].p99 ?? Infinity));
    const growth = Math.max(...TARGET_READS.map((e) => (last.endpoints[e].p99 ?? Infinity) / (first.endpoints[e].p99 ?? Infinity)));
    const at10M = last.messages >= 10_000_000;
    add(
      `reads p99 at ${at10M ? '10M' : `${last.messages.toLocaleString('en')} (not 10M: run --full)`} messages, worst of ${TARGET_READS.join(' / ')}`,
      '≤ 5 ms', null, `${fmt(worst, 2)} ms`, at10M ? worst <= 5 : null,
    );
    add(
      `reads p99 at ${last.messages.toLocaleString('en')} vs ${first.messages.toLocaleString('en')} messages, worst of the same`,
      '≤ 1.5×', null, `${fmt(growth, 2)}×`, at10M ? growth <= 1.5 : null,
    );
  } else add('reads p99 at 10M', '≤ 5 ms', null, '—', null);

  if (r.idle) {
    const perSocket = kib(r.idle.duet.rssPerSocketBytes);
    add(
      `RSS per idle socket at ${r.idle.duet.connected.toLocaleString('en')} sockets`,
      '≤ 20 KiB', null,
      `${fmt(perSocket)} KiB (relay ${fmt(kib(r.idle.relay.rssPerSocketBytes))} KiB)`,
      perSocket === null ? null : r.idle.duet.connected >= 10_000 ? perSocket <= 20 : null,
    );
    // Both populations, when both were measured (why: idle() in run.ts).
    const connects: [string, IdleRun][] = [[r.idle.users, r.idle]];
    if (r.idle.withoutPartners) connects.push([r.idle.withoutPartners.users, r.idle.withoutPartners]);
    for (const [users, run] of connects) {
      const share = ratio(run.duet.connectRate, run.relay.connectRate);
      add(
        `connect rate vs relay (${users})`, '≥ 60 %', null,
        share === null ? '—' : `${fmt(share * 100)} % (${run.duet.connectRate} vs ${run.relay.connectRate} sockets/s)`,
        share === null ? null : share >= 0.6,
      );
    }
  } else add('RSS per idle socket', '≤ 20 KiB', null, '—', null);
  checks.push(...clusterTargets(r));
  checks.push(...soakTargets(r.soak, (r.options.parts as string[] | undefined)?.includes('soak') ?? false));
  return checks;
}

/** Columns of a table that compares the relay, Duet and, after a cluster run, the cluster. */
const comparisonHeaders = (cluster: boolean, nodes?: number) =>
  ['', 'relay', 'duet', 'duet/relay', ...(cluster ? [`duet ×${nodes} nodes`, `${nodes} nodes/1 node`] : [])];

type Pick<T> = (figures: T, server: 'relay' | 'duet') => number | null | undefined;

/**
 * Rows for those columns: each value, duet/relay (blank when the relay has no such figure, e.g.
 * PostgreSQL's) and cluster/one node. `server` is the label of the server's own CPU figures.
 */
function comparisonRow<T>(relay: T, duet: T, cluster?: T) {
  return (label: string, pick: Pick<T>, digits = 1): string[] => {
    const [a, b] = [pick(relay, 'relay'), pick(duet, 'duet')];
    const cells = [label, fmt(a, digits), fmt(b, digits), a === null || a === undefined ? '' : fmt(ratio(b, a), 2)];
    if (cluster) cells.push(fmt(pick(cluster, 'duet'), digits), fmt(ratio(pick(cluster, 'duet'), b), 2));
    return cells;
  };
}

/** The send path's figures, one row each; a cluster adds each node's CPU, Redis and the service's total. */
function runRows(relay: MeasuredRun, duet: MeasuredRun, cluster?: MeasuredRun): string[][] {
  const row = comparisonRow(relay, duet, cluster);
  const text = (label: string, pick: (run: MeasuredRun) => string) => [label, pick(relay), pick(duet), '', ...(cluster ? [pick(cluster), ''] : [])];
  const cores = (label?: string): Pick<MeasuredRun> => (run, server) => run.cpu[label ?? server]?.cores;
  const perMessage = (label?: string): Pick<MeasuredRun> => (run, server) => run.cpu[label ?? server]?.usPerMessage;
  const nodes = Object.keys(cluster?.cpu ?? {}).filter((label) => /^duet-\d+$/.test(label));
  return [
    row('acked msgs/s', (run) => run.ackedPerSec),
    row('delivered msgs/s', (run) => run.deliveredPerSec),
    ...(['p50', 'p95', 'p99', 'max'] as const).map((p) => row(`ack latency ${p} ms`, (run) => run.ackLatencyMs[p], 2)),
    ...(['p50', 'p95', 'p99', 'max'] as const).map((p) => row(`e2e latency ${p} ms`, (run) => run.e2eLatencyMs[p], 2)),
    text('errors', (run) => fmt(run.errorCount)),
    text('lost', (run) => fmt(run.lost)),
    text('duplicates (delivered / stored)', (run) => `${run.duplicates} / ${fmt(run.stored?.duplicates)}`),
    row('server CPU cores', cores(), 2),
    row('server CPU µs/msg', perMessage()),
    ...nodes.flatMap((node) => [row(`  ${node} CPU cores`, cores(node), 2), row(`  ${node} CPU µs/msg`, perMessage(node))]),
    row('postgres CPU cores', cores('postgres'), 2),
    row('postgres CPU µs/msg', perMessage('postgres')),
    ...(cluster ? [row('redis CPU cores', cores('redis'), 2), row('redis CPU µs/msg', perMessage('redis'))] : []),
    row('generator CPU cores', cores('generator'), 2),
    ...(cluster
      ? [row('generator CPU µs/msg', perMessage('generator')), row('server + postgres + redis µs/msg', (run, server) => serviceCpuPerMessage(run, server))]
      : []),
  ];
}

/** Idle sockets of each server; `memory`: with the RSS rows (measured once the sockets settled). */
function idleTable(title: string, run: IdleRun, memory: boolean, nodes?: number): string {
  const row = comparisonRow(run.relay, run.duet, run.cluster);
  const mib = (bytes: number | null) => (bytes ?? 0) / 2 ** 20;
  const cluster = Boolean(run.cluster);
  return table(title, comparisonHeaders(cluster, nodes), [
    row('connected', (f) => f.connected, 0),
    row('failed', (f) => f.failed, 0),
    row('connect rate sockets/s', (f) => f.connectRate, 0),
    ...(memory
      ? [
          row('RSS per socket KiB', (f) => kib(f.rssPerSocketBytes)),
          row('RSS before MiB', (f) => mib(f.rssBeforeBytes)),
          row('RSS after MiB', (f) => mib(f.rssAfterBytes)),
          ...(cluster ? [row('redis RSS per socket KiB', (f) => kib(f.redisRssPerSocketBytes))] : []),
        ]
      : []),
    row('server CPU s while connecting', (f) => f.connectCpuSeconds.server, 2),
    ...(cluster ? [row('redis CPU s while connecting', (f) => f.connectCpuSeconds.redis, 2)] : []),
    row('generator CPU s while connecting', (f) => f.connectCpuSeconds.generator, 2),
  ]);
}

/** Duet's side of each run: what else ran while it was measured. */
function backgroundTable(closed: MeasuredRun | undefined, steps: KneeStep[]): string {
  const runs: [string, MeasuredRun][] = steps.map((st) => [`${st.rate}`, st]);
  if (closed) runs.unshift(['closed', closed]);
  const rows = runs
    .filter(([, run]) => run.background)
    .map(([label, run]) => {
      const b = run.background!;
      return [label, fmt(run.e2eLatencyMs.p99, 2), fmt(b.maxEventLoopDelayMs, 1), fmt(b.harnessMaxEventLoopDelayMs, 1), fmt(b.stealMs), `${b.gcPauses} / ${b.gcPausesOver10ms} / ${b.gcPauseMs}`, `${b.checkpoints}`, `${b.autovacuums} / ${b.autoanalyzes}`, fmt(b.walBytesPerMessage), fmt(b.heapUsedMiB)];
    });
  if (!rows.length) return '';
  return table(
    'Duet during each run: what else happened (event-loop delay and GC from its /metrics; PostgreSQL statistics)',
    ['run', 'e2e p99 ms', 'duet max loop delay ms', 'harness max loop delay ms', 'steal ms', 'GC pauses / ≥10 ms / total ms', 'checkpoints', 'autovacuum / analyze', 'WAL B/msg', 'heap MiB'],
    rows,
  );
}

export function renderTables(r: BenchResults): string {
  let out = '';
  if (r.closedLoop) {
    const { relay, duet, cluster } = r.closedLoop;
    const headers = comparisonHeaders(Boolean(cluster), r.cluster?.nodes);
    out += table(`Closed loop: ${r.closedLoop.pairs} pairs × ${r.closedLoop.inFlight} in flight`, headers, runRows(relay, duet, cluster));
  }
  if (r.knee) {
    out += renderKnee(r.knee, r.cluster?.nodes);
    out += backgroundTable(r.closedLoop?.duet, r.knee.duet.steps);
  }
  if (r.reads && r.reads.levels.length) {
    const levels = r.reads.levels;
    const first = levels[0]!;
    const last = levels[levels.length - 1]!;
    const rows = READ_ENDPOINTS.map((e) => [
      e,
      ...levels.map((l) => `${fmt(l.endpoints[e].p50, 2)} / ${fmt(l.endpoints[e].p99, 2)}${l.endpoints[e].errors ? ` (${l.endpoints[e].errors} err)` : ''}`),
      levels.length > 1 ? fmt(ratio(last.endpoints[e].p99, first.endpoints[e].p99), 2) : '',
    ]);
    out += table(
      `Reads over HTTP, one at a time: p50 / p99 ms (${r.reads.shape.users.toLocaleString('en')} users, ${(r.reads.shape.users * r.reads.shape.conversationsPerUser).toLocaleString('en')} conversations)`,
      ['endpoint', ...levels.map((l) => `${l.messages.toLocaleString('en')} msgs`), levels.length > 1 ? 'p99 last/first' : ''],
      rows,
    );
  }
  if (r.idle) {
    out += idleTable(`Idle sockets (${r.idle.users})`, r.idle, true, r.cluster?.nodes);
    const bare = r.idle.withoutPartners;
    if (bare) out += idleTable(`Connects without presence fan-out (${bare.users})`, bare, false, r.cluster?.nodes);
  }
  if (r.soak) out += renderSoak(r.soak);
  if (r.targets) {
    out += table('Targets (issue)', ['target', 'want', 'must', 'actual', 'status'], r.targets.map((t) => [t.target, t.want, t.must ?? '', t.actual, t.status]));
  }
  for (const note of r.notes) out += `note: ${note}\n`;
  return out;
}

/** bench/results/<ISO date>.json, the colons of the time made file-name safe. */
export function writeResults(r: BenchResults, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}${r.profile === 'default' ? '' : `-${r.profile}`}.json`);
  // Float64Arrays never reach here (only summaries), so plain JSON is the whole record.
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
