import type { Readiness } from '../../src/ops/readiness';
import { TcpProxy } from './tcp-proxy';
import type { TestApp } from './test-app';

const REDIS_PORT = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379);

export const READY: Readiness = { status: 'ready', database: 'up', redis: 'up' };
export const DEGRADED: Readiness = { status: 'degraded', database: 'up', redis: 'down' };

export interface RedisProxy {
  proxy: TcpProxy;
  /** The URL the nodes are given: Redis, through the proxy. */
  url: string;
}

/**
 * A proxy to the machine's Redis for the enclosing describe, so that its tests can cut Redis off
 * from the nodes (declare it before useCluster: the nodes read its URL when they start).
 */
export function useRedisProxy(): () => RedisProxy {
  let redis: RedisProxy | undefined;
  beforeAll(async () => {
    const proxy = await TcpProxy.start(REDIS_PORT);
    redis = { proxy, url: `redis://127.0.0.1:${proxy.port}` };
  });
  afterAll(() => redis?.proxy.close());
  return () => {
    if (!redis) throw new Error('the Redis proxy is not started yet (call the getter inside a hook or test)');
    return redis;
  };
}

/**
 * Polls the node's /ready until it answers `expected`; every answer on the way must be a 200 (a
 * load balancer keeps a node whose Redis is away). Returns how long it took.
 */
export async function waitForReadiness(node: TestApp, expected: Readiness, withinMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const res = await within(2000, node.api().get('/ready'), 'GET /ready');
    expect(res.status).toBe(200);
    if (JSON.stringify(res.body) === JSON.stringify(expected)) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`/ready answered ${JSON.stringify(res.body)}, not ${JSON.stringify(expected)}, after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `call`'s result, or a failure naming `what` if it takes longer than `ms`: nothing may hang. */
export async function within<T>(ms: number, call: PromiseLike<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}
