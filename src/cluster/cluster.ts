import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { MemoryTokenBucketStore, type TokenBucketStore } from '../limits/token-bucket-store';
import type { Logger } from '../shared/logger';
import { RedisLink } from './redis-link';
import type { RedisSettings } from './redis-settings';
import { FallbackTokenBucketStore, RedisTokenBucketStore } from './redis-token-bucket-store';

/** How long a node waits for Redis at start before it starts degraded (and joins when Redis answers). */
const FIRST_CONNECT_WAIT_MS = 5000;

/** This node's membership of a cluster of Duet nodes sharing one Redis (docs/scaling.md). */
export interface Cluster {
  link: RedisLink;
  /** Unique per process: a restarted node is a new node. */
  nodeId: string;
  /** Token buckets shared by every node, per node while Redis is away. */
  rateLimitStore: TokenBucketStore;
  close(): Promise<void>;
}

export async function joinCluster(settings: RedisSettings, logger: Logger): Promise<Cluster> {
  const link = new RedisLink(settings, logger);
  try {
    await link.ready(FIRST_CONNECT_WAIT_MS);
  } catch (err) {
    link.startDegraded();
    logger.warn('starting without Redis: this node serves its own sockets until Redis answers', {
      err: err instanceof Error ? err.message : String(err),
    });
  }
  return {
    link,
    nodeId: `${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    rateLimitStore: new FallbackTokenBucketStore(link, new RedisTokenBucketStore(link), new MemoryTokenBucketStore()),
    close: () => link.close(),
  };
}
