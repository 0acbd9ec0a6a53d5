import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../shared/logger';
import type { RedisSettings } from './redis-settings';

/** A command that gets no answer within this is failed, and the caller falls back (docs/scaling.md). */
const COMMAND_TIMEOUT_MS = 1000;
/** Reconnect attempts back off to this, so a node rejoins within seconds of Redis returning. */
const MAX_RECONNECT_DELAY_MS = 2000;
/**
 * A connection with commands outstanding and nothing received for this long is dropped and made
 * again (ioredis's socketTimeout), so a Redis that hangs counts as down like one that is gone.
 */
const SILENT_CONNECTION_MS = 5000;
/** The adapter's blocking reads wait up to 5 s for an entry: their connections may be silent longer. */
const SILENT_READER_MS = 10_000;
/** After a command failed, callers fall back at once for this long instead of each waiting out a timeout. */
const FAILURE_BACKOFF_MS = 2000;

/**
 * Duet's connections to Redis and whether Redis is reachable. Commands on `client` fail at once
 * while it is down (no offline queue): callers fall back to this node's memory instead of waiting.
 * The blocking readers the Socket.IO adapter needs get their own connections, which do queue.
 */
export class RedisLink {
  readonly client: Redis;
  private up = false;
  private wasDown = false;
  private closing = false;
  private backOffUntil = 0;
  private readonly rejoinListeners: Array<() => void> = [];
  private readonly readers: Redis[] = [];

  constructor(
    readonly settings: RedisSettings,
    private readonly logger: Logger,
  ) {
    this.client = new Redis(settings.url, {
      ...connectionOptions(),
      enableOfflineQueue: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
      socketTimeout: SILENT_CONNECTION_MS,
      maxRetriesPerRequest: 0,
      // The commands of one event-loop turn (a send's bucket, its three events) go out in one write:
      // a write per command was a fifth of a node's CPU (docs/scaling.md, "Capacity").
      enableAutoPipelining: true,
    });
    this.client.on('ready', () => this.becameReady());
    this.client.on('close', () => this.becameDown());
    // ioredis reports every failed reconnect here; the state change is what is logged.
    this.client.on('error', () => undefined);
  }

  /** true while commands can reach Redis (and none has just failed). */
  get isUp(): boolean {
    return this.up && Date.now() >= this.backOffUntil;
  }

  /** A command failed (timed out: Redis hangs): callers fall back for a moment without asking. */
  failed(): void {
    this.backOffUntil = Date.now() + FAILURE_BACKOFF_MS;
  }

  /** Waits until the first connection is ready (at start: a node with REDIS_URL set needs Redis once). */
  async ready(timeoutMs: number): Promise<void> {
    if (this.up) return;
    await new Promise<void>((resolve, reject) => {
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off('ready', ready);
        reject(new Error(`Redis at ${redacted(this.settings.url)} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.client.once('ready', ready);
    });
  }

  /** Redis did not answer at start: its first answer counts as a rejoin. */
  startDegraded(): void {
    this.wasDown = true;
  }

  /** Runs `listener` each time Redis is reachable again after an outage. */
  onRejoin(listener: () => void): void {
    this.rejoinListeners.push(listener);
  }

  /** A connection for blocking reads and subscriptions: it queues commands while Redis is away. */
  reader(): Redis {
    // Its commands wait for Redis however long it is away (a failed blocking read would be retried at once).
    const reader = new Redis(this.settings.url, { ...connectionOptions(), maxRetriesPerRequest: null, socketTimeout: SILENT_READER_MS });
    reader.on('error', () => undefined);
    this.readers.push(reader);
    return reader;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  /** Lets pending replies arrive, then closes every connection. */
  async close(): Promise<void> {
    this.closing = true;
    for (const reader of this.readers) reader.disconnect();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private becameReady(): void {
    this.up = true;
    if (!this.wasDown) return;
    this.wasDown = false;
    this.logger.info('Redis reachable again: rejoining the cluster');
    for (const listener of this.rejoinListeners) listener();
  }

  private becameDown(): void {
    if (!this.up || this.closing) return;
    this.up = false;
    this.wasDown = true;
    this.logger.warn('Redis unreachable: serving this node\'s own sockets, limits per node', { url: redacted(this.settings.url) });
  }
}

function connectionOptions(): RedisOptions {
  return {
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
    keepAlive: 10_000,
    connectionName: 'duet',
  };
}

/** The URL without its password, for logs. */
function redacted(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
