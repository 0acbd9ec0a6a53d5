import type { TargetCheck } from './report';
import type { SoakFigures } from './soak';
import { fmt, table } from './text-table';

/** The soak's printed tables and its targets: memory flat, no socket dropped, no message lost. */

const pct = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${fmt(v * 100)} %`);

/** `asked`: the soak was among the parts to run (it is in no profile), so a missing result means it failed. */
export function soakTargets(soak: SoakFigures | undefined, asked: boolean): TargetCheck[] {
  if (!soak) {
    const actual = asked ? '— (the soak failed: see the notes)' : '— (in no profile: --only soak)';
    return [{ target: 'soak: memory flat, no socket dropped, 0 lost', want: '', must: null, actual, status: 'not-measured' }];
  }
  const { options: o, traffic: t, stored, connect } = soak;
  const check = (target: string, want: string, actual: string, ok: boolean | null): TargetCheck => ({
    target, want, must: null, actual, status: ok === null ? 'not-measured' : ok ? 'met' : 'missed',
  });
  const within = `≤ +${fmt(o.maxGrowth * 100)} %`;
  const memory = (label: string, start: number | null, end: number | null, change: number | null, comparable = true) =>
    check(
      `soak: ${label}, start → end after the warm-up`,
      within,
      `${fmt(start)} → ${fmt(end)} MiB (${pct(change)})${comparable ? '' : '; a window without a major GC: not comparable'}`,
      change === null || !comparable ? null : change <= o.maxGrowth,
    );
  const noAck = t.errors.NO_ACK ?? 0;
  const refused = Object.entries(t.errors).filter(([code]) => code !== 'NO_ACK').reduce((n, [, k]) => n + k, 0);
  return [
    memory('Duet RSS', soak.start.rssMiB, soak.end.rssMiB, soak.growth.rss),
    memory(
      'Duet V8 heap retained (floor outside the young generation)',
      soak.start.retainedHeapMiB,
      soak.end.retainedHeapMiB,
      soak.growth.retainedHeap,
      soak.start.majorCollections > 0 && soak.end.majorCollections > 0,
    ),
    check(
      `soak: sockets dropped (${connect.requested.toLocaleString('en')} held ${fmt(o.minutes)} min + warm-up)`,
      '0',
      `${t.dropped}${t.dropped ? ` ${JSON.stringify(t.dropReasons)}` : ''}; ${t.connectedAtEnd} of ${connect.connected} connected at the end` +
        `${connect.failed ? `; ${connect.failed} never connected` : ''}`,
      t.dropped === 0 && connect.failed === 0 && t.connectedAtEnd === connect.connected,
    ),
    check(
      'soak: lost messages (acked, not delivered or not stored; never acked)',
      '0',
      `${t.lost + stored.missing + noAck} of ${t.sent} sent (${t.lost} not delivered, ${stored.missing} not stored, ${noAck} never acked)`,
      t.lost + stored.missing + noAck === 0,
    ),
    check(
      'soak: duplicated or refused messages',
      '0',
      `${t.duplicates} delivered twice, ${stored.duplicates} stored twice, ${refused} refused${refused ? ` ${JSON.stringify(t.errors)}` : ''}`,
      t.duplicates + stored.duplicates + refused === 0,
    ),
  ];
}

export function renderSoak(soak: SoakFigures): string {
  const { options: o, start, end, traffic: t } = soak;
  const row = (label: string, a: number | null, b: number | null) => [label, fmt(a), fmt(b), a === null || b === null || a === 0 ? '—' : pct(b / a - 1)];
  // V8 lists a dozen spaces; most hold nothing in this server.
  const spaces = [...new Set([...Object.keys(start.heapSpacesMiB), ...Object.keys(end.heapSpacesMiB)])].filter(
    (space) => (start.heapSpacesMiB[space] ?? 0) > 0 || (end.heapSpacesMiB[space] ?? 0) > 0,
  );
  let out = table(
    `Soak: Duet's memory, medians (retained heap: lowest) of ${start.samples} / ${end.samples} samples at ${start.fromSeconds}–${start.toSeconds} s and ${end.fromSeconds}–${end.toSeconds} s of the load`,
    ['MiB', 'start', 'end', 'change'],
    [
      row('RSS', start.rssMiB, end.rssMiB),
      row('V8 heap used', start.heapUsedMiB, end.heapUsedMiB),
      row('V8 heap retained (lowest, outside new space)', start.retainedHeapMiB, end.retainedHeapMiB),
      ['  major GCs in the window', `${start.majorCollections}`, `${end.majorCollections}`, ''],
      row('V8 heap total', start.heapTotalMiB, end.heapTotalMiB),
      row('external (buffers)', start.externalMiB, end.externalMiB),
      ...spaces.map((space) => row(`  heap space ${space}`, start.heapSpacesMiB[space] ?? null, end.heapSpacesMiB[space] ?? null)),
    ],
  );
  const latency = (s: typeof t.ackLatencyMs) => `${fmt(s.p50, 2)} / ${fmt(s.p99, 2)} / ${fmt(s.max, 2)}`;
  const last = soak.samples[soak.samples.length - 1];
  out += table(
    `Soak: ${soak.connect.requested.toLocaleString('en')} sockets (${soak.clientProcesses} client processes), ${o.rate} msgs/s, ${o.warmupSeconds} s warm-up + ${fmt(o.minutes)} min`,
    ['', 'value'],
    [
      ['connected / failed / connect rate', `${soak.connect.connected} / ${soak.connect.failed} / ${soak.connect.rate} per s`],
      ['dropped / connected at the end / session_expired', `${t.dropped} / ${t.connectedAtEnd} / ${t.sessionExpired}`],
      ['sent / acked / delivered', `${t.sent} / ${t.ackOk} / ${t.delivered}`],
      ['lost / duplicates / never acked / refused', `${t.lost} / ${t.duplicates} / ${t.errors.NO_ACK ?? 0} / ${JSON.stringify(t.errors)}`],
      ['stored rows / stored twice / acked not stored', `${soak.stored.rows} / ${soak.stored.duplicates} / ${soak.stored.missing}`],
      ['skipped (sender dropped)', `${t.skipped}`],
      ['ack latency p50 / p99 / max ms', latency(t.ackLatencyMs)],
      ['e2e latency p50 / p99 / max ms', latency(t.e2eLatencyMs)],
      ['Duet worst event-loop delay ms (worst 5 s p99)', `${fmt(soak.worstLoopDelayMs)} (${fmt(soak.worstLoopP99Ms)})`],
      ['  during connects and warm-up', fmt(soak.warmupWorstLoopDelayMs)],
      ['harness worst loop delay ms (machine stalls)', fmt(soak.harnessWorstLoopDelayMs)],
      ['GC after warm-up: collections / seconds', `${soak.gcAfterWarmup.count} / ${fmt(soak.gcAfterWarmup.seconds, 3)}`],
      ['CPU cores: duet / postgres / clients', ['duet', 'postgres', 'generator'].map((k) => fmt(soak.cpuCores[k], 3)).join(' / ')],
      ['Duet handles / open fds at the end', `${last?.activeHandles ?? '—'} / ${last?.openFds ?? '—'}`],
      ['load average start / end / highest 1 min', `${soak.loadAverage.start.join(' ')} / ${soak.loadAverage.end.join(' ')} / ${soak.loadAverage.highest1m}`],
    ],
  );
  return out;
}
