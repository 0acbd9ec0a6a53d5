import type { BenchResults } from './report';
import { ratio } from './stats';
import { fmt, table } from './text-table';
import type { KneeResult } from './throughput';

/** The open-loop steps' table: each step of the relay beside Duet's, and the knee of each. */

export function stepAt(knee: KneeResult, rate: number) {
  return knee.steps.find((s) => s.rate === rate);
}

/** A knee table's cell: e2e p50 / p99 of the step at that rate, and whether it passed. */
function cell(k: KneeResult, rate: number): string {
  const s = stepAt(k, rate);
  return s ? `${fmt(s.e2eLatencyMs.p50, 2)} / ${fmt(s.e2eLatencyMs.p99, 2)} ${s.pass ? 'ok' : 'FAIL'}` : 'not run';
}

/** The steps of every server, the knee of each, and which steps were skipped or failed below it. */
export function renderKnee(knee: NonNullable<BenchResults['knee']>): string {
  const rates = [...new Set([...knee.relay.steps, ...knee.duet.steps].map((s) => s.rate))].sort((a, b) => a - b);
  const rows = rates.map((rate) => {
    const d = stepAt(knee.duet, rate);
    return [
      `${rate}`,
      cell(knee.relay, rate),
      cell(knee.duet, rate),
      d ? fmt(d.ackedPerSec) : '—',
      d ? fmt(d.cpu.duet?.cores, 2) : '—',
      d ? fmt(d.cpu.postgres?.cores, 2) : '—',
      d && !d.pass ? d.failures.join('; ') : '',
    ];
  });
  rows.push(['knee', `${knee.relay.knee ?? 'none'}`, `${knee.duet.knee ?? 'none'}`, '', '', '', fmt(ratio(knee.duet.knee, knee.relay.knee), 2) + ' of relay']);
  let out = table(
    `Open loop (${knee.pairs} pairs): e2e p50 / p99 ms per step; knee = highest rate with p99 ≤ ${knee.p99BoundMs} ms, 0 lost/dup/errors`,
    ['msgs/s', 'relay', 'duet', 'duet acked/s', 'duet CPU', 'pg CPU', 'duet failures'],
    rows,
  );
  for (const [name, k] of [['relay', knee.relay], ['duet', knee.duet]] as const) {
    if (k.stoppedEarly) out += `  (${name}: ${k.stoppedEarly})\n`;
    if (k.failedBelowKnee.length) out += `  (${name}: steps below its knee failed: ${k.failedBelowKnee.join(', ')} msgs/s)\n`;
  }
  return out;
}
