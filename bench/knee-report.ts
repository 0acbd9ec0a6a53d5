import { serviceCpuPerMessage } from './cluster-report';
import type { BenchResults } from './report';
import { ratio } from './stats';
import { fmt, table } from './text-table';
import type { KneeResult } from './throughput';

/** The open-loop steps' tables: relay beside one node, and a cluster's beside one node. */

export function stepAt(knee: KneeResult, rate: number) {
  return knee.steps.find((s) => s.rate === rate);
}

/** A knee table's cell: e2e p50 / p99 of the step at that rate, and whether it passed. */
function cell(k: KneeResult, rate: number): string {
  const s = stepAt(k, rate);
  return s ? `${fmt(s.e2eLatencyMs.p50, 2)} / ${fmt(s.e2eLatencyMs.p99, 2)} ${s.pass ? 'ok' : 'FAIL'}` : 'not run';
}

/** The cluster's open-loop steps beside one node's: at the same rate, CPU per message compares directly. */
function clusterKneeTable(one: KneeResult, cluster: KneeResult, nodes: number): string {
  const rows = cluster.steps.map((c) => {
    const d = stepAt(one, c.rate);
    const [oneCpu, manyCpu] = [d && serviceCpuPerMessage(d), serviceCpuPerMessage(c)];
    return [
      `${c.rate}`, cell(one, c.rate), cell(cluster, c.rate), fmt(c.ackedPerSec), fmt(c.cpu.duet?.cores, 2), fmt(c.cpu.postgres?.cores, 2),
      fmt(c.cpu.redis?.cores, 2), fmt(oneCpu), fmt(manyCpu), fmt(ratio(manyCpu, oneCpu), 2), c.pass ? '' : c.failures.join('; '),
    ];
  });
  rows.push(['knee', `${one.knee ?? 'none'}`, `${cluster.knee ?? 'none'}`, '', '', '', '', '', '', '', fmt(ratio(cluster.knee, one.knee), 2) + ' of one node']);
  return table(
    `Open loop on ${nodes} nodes (each pair's users on different nodes) beside one node: e2e p50 / p99 ms; CPU = server + postgres + redis`,
    ['msgs/s', '1 node', `${nodes} nodes`, 'acked/s', 'nodes CPU', 'pg CPU', 'redis CPU', '1 node µs/msg', `${nodes} nodes µs/msg`, 'ratio', `${nodes}-node failures`],
    rows,
  );
}

/** The steps of every server, the knee of each, and which steps were skipped or failed below it. */
export function renderKnee(knee: NonNullable<BenchResults['knee']>, nodes = 1): string {
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
  if (knee.cluster) out += clusterKneeTable(knee.duet, knee.cluster, nodes);
  const sweeps = [['relay', knee.relay], ['duet', knee.duet], ...(knee.cluster ? [['cluster', knee.cluster] as const] : [])] as const;
  for (const [name, k] of sweeps) {
    if (k.stoppedEarly) out += `  (${name}: ${k.stoppedEarly})\n`;
    if (k.failedBelowKnee.length) out += `  (${name}: steps below its knee failed: ${k.failedBelowKnee.join(', ')} msgs/s)\n`;
  }
  return out;
}
