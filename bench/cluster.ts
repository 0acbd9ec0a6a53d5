import { type CpuProbe, groupProbe, processProbe } from './proc-cpu';
import { freePort } from './processes';
import type { BenchRedis } from './redis';
import { type DuetLaunch, type ServerHandle, startDuet } from './servers';

/**
 * Several Duet nodes that share the run's PostgreSQL and one Redis, as issue 14 deploys them: an
 * event emitted on one node reaches the user's sockets on another.
 */

export interface Cluster {
  nodes: ServerHandle[];
  urls: string[];
  /** Every node as `duet` (their sum, comparable with one node), each node as `duet-<n>`, and Redis. */
  probes: CpuProbe[];
  stop(): Promise<void>;
}

export interface ClusterLaunch extends Omit<DuetLaunch, 'port' | 'redis' | 'logName' | 'databaseUrl'> {
  nodes: number;
  /** Every node's database: the embedded cluster of the one-node Duet, or BENCH_DATABASE_URL. */
  databaseUrl: string;
  redis: BenchRedis;
  /** Unique to the run: its keys are deleted when the cluster stops. */
  keyPrefix: string;
}

export async function startCluster(launch: ClusterLaunch): Promise<Cluster> {
  const { nodes: count, redis, keyPrefix, ...base } = launch;
  const start = async (n: number) =>
    startDuet({ ...base, port: await freePort(), redis: { url: redis.url, keyPrefix }, logName: `duet-node-${n}` });
  // The first node runs the migrations (if any are left) before the others start.
  const nodes = [await start(1)];
  const others = await Promise.allSettled(Array.from({ length: count - 1 }, (_, i) => start(i + 2)));
  for (const other of others) if (other.status === 'fulfilled') nodes.push(other.value);
  const failed = others.find((other) => other.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failed.reason;
  }
  const perNode = nodes.map((node, i) => processProbe(`duet-${i + 1}`, node.pid));
  const redisProbe = redis.cpuProbe();
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    probes: [groupProbe('duet', perNode), ...perNode, ...(redisProbe ? [redisProbe] : [])],
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
      await redis.deleteKeys(keyPrefix);
    },
  };
}
