/** Where the nodes of a cluster meet (REDIS_URL, REDIS_KEY_PREFIX). */
export interface RedisSettings {
  url: string;
  /** Every key, stream and channel Duet uses starts with it, so that several Duets can share a Redis. */
  keyPrefix: string;
}

export const DEFAULT_REDIS_KEY_PREFIX = 'duet:';
