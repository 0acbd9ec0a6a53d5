import type { BenchResults, TargetCheck } from './report';
import { ratio } from './stats';
import { fmt } from './text-table';
import type { MeasuredRun } from './throughput';

/** Issue 14's targets for the cluster run: what crossing nodes costs per message, and nothing lost. */

/** Crossing nodes may cost at most this share more CPU per message than one node. */
const MAX_EXTRA_CPU = 0.2;

export interface ClusterInfo {
  nodes: number;
  redis: {
    /** machine: the Redis already on 127.0.0.1:6379; private: one the run started. */
    origin: 'machine' | 'private';
    version: string;
    /** Other clients when the run began: their work is in Redis's CPU figures too. */
    otherClients: number;
    cpuMeasured: boolean;
  };
}

/**
 * CPU µs per acked message of the whole service: the server (`server` is its label; for a cluster
 * every node), PostgreSQL and Redis. Null without the server's figure.
 */
export function serviceCpuPerMessage(run: MeasuredRun, server = 'duet'): number | null {
  const own = run.cpu[server]?.usPerMessage;
  if (own === null || own === undefined) return null;
  return Math.round((own + (run.cpu.postgres?.usPerMessage ?? 0) + (run.cpu.redis?.usPerMessage ?? 0)) * 10) / 10;
}

export function clusterTargets(r: BenchResults): TargetCheck[] {
  if (!r.cluster) return [];
  const nodes = `${r.cluster.nodes} nodes, closed loop`;
  const check = (target: string, want: string, actual: string, ok: boolean | null): TargetCheck => ({
    target: `${nodes}: ${target}`, want, must: null, actual, status: ok === null ? 'not-measured' : ok ? 'met' : 'missed',
  });
  const one = r.closedLoop?.duet;
  const many = r.closedLoop?.cluster;
  if (!one || !many) return [check('CPU per message vs one node; 0 lost or duplicated', '', '— (no closed loop on both)', null)];
  const [oneCpu, manyCpu] = [serviceCpuPerMessage(one), serviceCpuPerMessage(many)];
  const share = ratio(manyCpu, oneCpu);
  const storedTwice = many.stored?.duplicates ?? 0;
  const notStored = many.stored?.missing ?? 0;
  return [
    check(
      `CPU µs per message (server + PostgreSQL${r.cluster.redis.cpuMeasured ? ' + Redis' : ', Redis not visible'}) vs one node`,
      `≤ ${fmt(1 + MAX_EXTRA_CPU, 2)}×`,
      share === null ? '—' : `${fmt(share, 2)}× (${fmt(manyCpu)} vs ${fmt(oneCpu)} µs)`,
      share === null ? null : share <= 1 + MAX_EXTRA_CPU,
    ),
    check(
      'lost / duplicated (delivered twice, stored twice, acked but not stored)',
      '0',
      `${many.lost} lost, ${many.duplicates} / ${storedTwice} duplicated, ${notStored} not stored`,
      many.lost + many.duplicates + storedTwice + notStored === 0,
    ),
  ];
}
