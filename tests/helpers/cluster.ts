import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ChatOptions } from '../../src/chat';
import { disconnectAll } from './sockets';
import { resetAfterSocketsLeave, startTestApp, type TestApp, usePerTest } from './test-app';

/** The machine's Redis (`.ci/run` starts one when none answers); REDIS_URL points tests elsewhere. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own per cluster, so that test runs (and test files) never see each other's keys. */
export function testKeyPrefix(): string {
  return `duet-test-${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/** Runs `use` on a connection of its own to the machine's Redis (not through any test proxy). */
export async function withRedis<T>(use: (redis: Redis) => Promise<T>, url = TEST_REDIS_URL): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Removes every key under the prefix. */
export function deleteKeys(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  return withRedis(async (redis) => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  }, url);
}

export interface TestCluster {
  nodes: TestApp[];
  keyPrefix: string;
  /** Starts one more node of the same cluster. */
  addNode(overrides?: Partial<ChatOptions>): Promise<TestApp>;
  close(): Promise<void>;
}

/**
 * `count` Duet nodes over the test database and one Redis key prefix, each on its own port.
 * `redisUrl` is where the nodes reach Redis (a proxy, for outage tests); keys are removed directly.
 */
export async function startCluster(count: number, overrides: Partial<ChatOptions> = {}, redisUrl = TEST_REDIS_URL): Promise<TestCluster> {
  const keyPrefix = testKeyPrefix();
  const nodes: TestApp[] = [];
  const addNode = async (more: Partial<ChatOptions> = {}) => {
    const node = await startTestApp({ redis: { url: redisUrl, keyPrefix }, ...overrides, ...more });
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < count; i++) await addNode();
  return {
    nodes,
    keyPrefix,
    addNode,
    close: async () => {
      await Promise.all(nodes.map((node) => node.close()));
      await deleteKeys(keyPrefix);
    },
  };
}

/**
 * A new cluster for every test, on emptied tables: for tests that leave state in Redis behind
 * (a killed node's share of presence is only swept seconds later, and user ids restart per test).
 */
export function useClusterPerTest(count: number, overrides: Partial<ChatOptions> = {}): () => TestCluster {
  return usePerTest('the cluster', () => startCluster(count, overrides), (cluster) => cluster.nodes[0]!.chat.sequelize);
}

/**
 * The cluster lifecycle most cluster tests need: nodes for the file, empty tables before each
 * test, the test's sockets closed after it. `redisUrl` is read when the nodes start (in beforeAll).
 */
export function useCluster(count: number, overrides: Partial<ChatOptions> = {}, redisUrl = () => TEST_REDIS_URL): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(count, overrides, redisUrl());
  });
  afterAll(() => cluster?.close());
  beforeEach(() => resetAfterSocketsLeave(cluster!.nodes));
  afterEach(() => disconnectAll());
  return () => {
    if (!cluster) throw new Error('the cluster is not started yet (call the getter inside a hook or test)');
    return cluster;
  };
}
