import path from 'node:path';
import { DEFAULT_ALLOWED_TYPES } from '../attachments/content-type';
import { DEFAULT_QUOTA_BYTES } from '../attachments/upload-reservations';
import { hostUsersFromEnv } from './host-users';
import { DEFAULT_WRITER_OPTIONS } from '../messages/message-writer';
import { DEFAULT_RATE_LIMITS, envPrefix, RATE_CLASSES, type RateLimits } from '../limits/rate-classes';
import { parseUserId } from '../shared/ids';
import { normalizeOrigins } from '../http/origin-policy';
import { DEFAULT_DATABASE_TIMEOUT_MS } from '../db/sql';
import { DEFAULT_REDIS_KEY_PREFIX, type RedisSettings } from '../cluster/redis-settings';

/**
 * The one place that reads the environment. Everything else receives a frozen Config (or, in
 * library mode, the options a host passes to createChat).
 */
export interface HostUsersConfig {
  table: string;
  idColumn: string;
  nameColumn: string;
  /** Empty string: the host table has no avatar column. */
  avatarColumn: string;
}

export interface AuthConfig {
  /** HS256 shared secret; ignored when publicKey is set. */
  secret?: string;
  /** PEM public key: RS256 / ES256. */
  publicKey?: string;
  issuer?: string;
  audience?: string;
  userClaim: string;
  roleClaim: string;
  /** Accept tokens without `exp` (JWT_ALLOW_NO_EXP); by default they are refused. */
  allowNoExp?: boolean;
}

export interface LimitsConfig {
  maxMessageLength: number;
  maxUploadBytes: number;
  /** Largest JSON body a REST route accepts. */
  maxJsonBytes: number;
  /** Per-user token buckets by class (API.md, "Fair use"). */
  rates: RateLimits;
  /** Users whose calls are never refused for fair use (the host's system or support accounts). */
  exemptUserIds: readonly number[];
  /** Events one socket may have in progress; more are refused at once. */
  socketMaxPending: number;
}

/** Webhooks to the host (API.md, "Webhooks to the host"); unset: nothing is queued. */
export interface WebhookConfig {
  url: string;
  /** A Standard Webhooks secret: `whsec_` + base64. */
  secret: string;
  /** About when the first retry comes; each further one waits twice as long (src/webhooks/retry-schedule.ts). */
  retryBaseMs: number;
  /** How long an event is retried before it is marked failed (may be a fraction). */
  retryHours: number;
}

export const DEFAULT_WEBHOOK_RETRY = Object.freeze({ retryBaseMs: 5000, retryHours: 24 });

/** Shorter secrets are refused: the HMAC key is what keeps forged events out. */
const MIN_WEBHOOK_SECRET_BYTES = 16;

/** WEBHOOK_* (or createChat's `webhooks`), checked once at start: a bad value fails fast with its name. */
export function checkWebhookConfig(webhooks: Partial<WebhookConfig> & Pick<WebhookConfig, 'url' | 'secret'>): WebhookConfig {
  const config: WebhookConfig = { ...DEFAULT_WEBHOOK_RETRY, ...webhooks };
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new ConfigError(`WEBHOOK_URL must be an http:// or https:// URL, got "${config.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`WEBHOOK_URL must be an http:// or https:// URL, got "${config.url}"`);
  const key = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(config.secret ?? '')?.[1];
  if (!key || Buffer.from(key, 'base64').length < MIN_WEBHOOK_SECRET_BYTES) {
    throw new ConfigError(`WEBHOOK_SECRET must be whsec_ followed by the base64 of at least ${MIN_WEBHOOK_SECRET_BYTES} random bytes`);
  }
  if (!Number.isInteger(config.retryBaseMs) || config.retryBaseMs < 1) throw new ConfigError('WEBHOOK_RETRY_BASE_MS must be a whole number of milliseconds above 0');
  if (!(config.retryHours > 0) || !Number.isFinite(config.retryHours)) throw new ConfigError('WEBHOOK_RETRY_HOURS must be a number of hours above 0');
  return Object.freeze(config);
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  /** No JWT_SECRET or JWT_PUBLIC_KEY outside production: tokens are checked with the public development secret. */
  developmentSecret: boolean;
  /** The interface the server listens on: 127.0.0.1 on the development secret (anyone can sign its tokens), else all. */
  listenHost?: string;
  /** Browser origins allowed besides the server's own (CORS_ORIGINS; `*`: any). */
  corsOrigins: string[];
  databaseUrl?: string;
  dataDir: string;
  embeddedPostgresPort: number;
  /** The embedded cluster's directory; unset: DATA_DIR/pg (see src/db/embedded/cluster-location.ts). */
  embeddedPostgresDir?: string;
  migrateOnStart: boolean;
  logLevel: string;
  /** REDIS_URL and REDIS_KEY_PREFIX: several nodes (docs/scaling.md); unset: one node, no Redis. */
  redis?: RedisSettings;
  auth: AuthConfig;
  users: HostUsersConfig;
  limits: LimitsConfig;
  /** WEBHOOK_URL and WEBHOOK_SECRET: events to the host's back end; unset: none. */
  webhooks?: WebhookConfig;
  attachments: {
    directory: string;
    /** MIME types accepted, decided from the bytes. */
    allowedTypes: string[];
    orphanTtlMs: number;
    /** What one user's stored attachments may take, in bytes. */
    quotaBytes: number;
  };
  /** Days after which soft-deleted messages are purged; 0 keeps them. */
  retentionDays: number;
  /** Pool size for the server's PostgreSQL connections. */
  dbPoolMax: number;
  /** Send batches written at once (message-writer.ts); each holds a pool connection. */
  sendBatchesInFlight: number;
  /** How long a looked-up user is trusted before the host table is asked again (sockets: see session-expiry.ts). */
  userCacheMs: number;
  shutdownTimeoutMs: number;
  /** How long the server waits at start for the database to answer before giving up. */
  databaseWaitMs: number;
  /** Longest wait for the database in a request (a pool slot, a connect, a statement): then UNAVAILABLE. */
  databaseTimeoutMs: number;
}

export class ConfigError extends Error {}

/** Signs demo tokens in development only; production refuses it. */
export const DEV_JWT_SECRET = 'duet-development-secret-do-not-use-in-production';
const MIN_SECRET_BYTES = 32;

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}`);
  return value;
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(value > 0)) throw new ConfigError(`${name} must be a number above 0, got "${raw}"`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function optionalPath(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  return raw === undefined ? undefined : path.resolve(raw);
}

function list(env: Env, name: string, fallback: string[]): string[] {
  const raw = optional(env, name);
  if (!raw) return fallback;
  const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const item of items) if (!/^[a-z]+\/[a-z0-9.+-]+$/.test(item)) throw new ConfigError(`${name}: "${item}" is not a MIME type`);
  return items;
}

function nodeEnv(env: Env): Config['env'] {
  const raw = env.NODE_ENV ?? 'development';
  if (raw === 'development' || raw === 'production' || raw === 'test') return raw;
  throw new ConfigError(`NODE_ENV must be development, production or test, got "${raw}"`);
}

/** Validates the auth settings; production must have a real secret or a public key. */
export function checkAuthConfig(auth: AuthConfig, production: boolean): void {
  if (auth.publicKey) {
    if (!auth.publicKey.includes('BEGIN')) throw new ConfigError('JWT_PUBLIC_KEY must be a PEM public key');
    return;
  }
  if (!auth.secret) throw new ConfigError('JWT_SECRET or JWT_PUBLIC_KEY is required');
  if (Buffer.byteLength(auth.secret) < MIN_SECRET_BYTES) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (production && auth.secret === DEV_JWT_SECRET) {
    throw new ConfigError('NODE_ENV=production refuses the development JWT secret: set JWT_SECRET or JWT_PUBLIC_KEY');
  }
}

/** CORS_ORIGINS (or createChat's corsOrigins), normalized; a malformed entry fails fast. */
export function checkCorsOrigins(origins: readonly string[]): string[] {
  try {
    return normalizeOrigins(origins);
  } catch (err) {
    throw new ConfigError(`CORS_ORIGINS: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function checkIdentifier(name: string, value: string): void {
  if (!IDENTIFIER.test(value)) throw new ConfigError(`${name} must be a plain SQL identifier, got "${value}"`);
}

export function checkHostUsersConfig(users: HostUsersConfig): void {
  checkIdentifier('USERS_TABLE', users.table);
  checkIdentifier('USERS_ID_COLUMN', users.idColumn);
  checkIdentifier('USERS_NAME_COLUMN', users.nameColumn);
  if (users.avatarColumn) checkIdentifier('USERS_AVATAR_COLUMN', users.avatarColumn);
}

export const DEFAULT_LIMITS: LimitsConfig = Object.freeze({
  maxMessageLength: 4000,
  maxUploadBytes: 10 * 1024 * 1024,
  maxJsonBytes: 64 * 1024,
  rates: DEFAULT_RATE_LIMITS,
  exemptUserIds: [],
  socketMaxPending: 32,
});

function rateLimits(env: Env): RateLimits {
  const rates = {} as RateLimits;
  for (const rateClass of RATE_CLASSES) {
    const fallback = DEFAULT_RATE_LIMITS[rateClass];
    rates[rateClass] = {
      burst: integer(env, `${envPrefix(rateClass)}_BURST`, fallback.burst, 1),
      perSecond: positiveNumber(env, `${envPrefix(rateClass)}_PER_SEC`, fallback.perSecond),
    };
  }
  return rates;
}

function userIds(env: Env, name: string): number[] {
  const raw = optional(env, name);
  if (!raw) return [];
  return raw.split(',').map((item) => item.trim()).filter(Boolean).map((item) => {
    const id = parseUserId(item);
    if (id === undefined) throw new ConfigError(`${name}: "${item}" is not a user id`);
    return id;
  });
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const mode = nodeEnv(env);
  const production = mode === 'production';
  const publicKey = optional(env, 'JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  const auth: AuthConfig = {
    secret: optional(env, 'JWT_SECRET') ?? (production || publicKey ? undefined : DEV_JWT_SECRET),
    publicKey,
    issuer: optional(env, 'JWT_ISSUER'),
    audience: optional(env, 'JWT_AUDIENCE'),
    userClaim: optional(env, 'JWT_USER_CLAIM') ?? 'sub',
    roleClaim: optional(env, 'JWT_ROLE_CLAIM') ?? 'role',
    allowNoExp: boolean(env, 'JWT_ALLOW_NO_EXP', false),
  };
  checkAuthConfig(auth, production);
  const developmentSecret = auth.secret === DEV_JWT_SECRET && !publicKey;
  const users: HostUsersConfig = hostUsersFromEnv(env);
  checkHostUsersConfig(users);

  const dataDir = path.resolve(optional(env, 'DATA_DIR') ?? './.data');
  const config: Config = {
    env: mode,
    port: integer(env, 'PORT', 3000, 0, 65535),
    developmentSecret,
    listenHost: developmentSecret ? '127.0.0.1' : undefined,
    corsOrigins: checkCorsOrigins((optional(env, 'CORS_ORIGINS') ?? '').split(',').filter((item) => item.trim())),
    databaseUrl: optional(env, 'DATABASE_URL'),
    dataDir,
    embeddedPostgresPort: integer(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    embeddedPostgresDir: optionalPath(env, 'EMBEDDED_PG_DIR'),
    migrateOnStart: boolean(env, 'MIGRATE_ON_START', true),
    logLevel: optional(env, 'LOG_LEVEL') ?? 'info',
    redis: redisSettings(env),
    webhooks: webhookSettings(env),
    auth,
    users,
    limits: {
      maxMessageLength: integer(env, 'MAX_MESSAGE_LENGTH', DEFAULT_LIMITS.maxMessageLength, 1, 1_000_000),
      maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', DEFAULT_LIMITS.maxUploadBytes, 1),
      maxJsonBytes: DEFAULT_LIMITS.maxJsonBytes,
      rates: rateLimits(env),
      exemptUserIds: userIds(env, 'RATE_LIMIT_EXEMPT_USERS'),
      socketMaxPending: integer(env, 'SOCKET_MAX_PENDING', DEFAULT_LIMITS.socketMaxPending, 1, 100_000),
    },
    attachments: {
      directory: path.join(dataDir, 'attachments'),
      allowedTypes: list(env, 'ATTACHMENT_TYPES', [...DEFAULT_ALLOWED_TYPES]),
      orphanTtlMs: integer(env, 'ATTACHMENT_ORPHAN_TTL_MS', 24 * 60 * 60 * 1000, 0),
      quotaBytes: integer(env, 'ATTACHMENT_QUOTA_BYTES', DEFAULT_QUOTA_BYTES, 1),
    },
    retentionDays: integer(env, 'RETENTION_DAYS', 0, 0, 36500),
    // Two at least: the migrations' lock holds one connection while they run on another.
    dbPoolMax: integer(env, 'DB_POOL_MAX', 10, 2, 1000),
    sendBatchesInFlight: integer(env, 'SEND_BATCHES_IN_FLIGHT', DEFAULT_WRITER_OPTIONS.maxInFlight, 1, 64),
    userCacheMs: integer(env, 'USER_CACHE_MS', 30_000, 0),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    databaseWaitMs: integer(env, 'DATABASE_WAIT_MS', 30_000, 0),
    databaseTimeoutMs: integer(env, 'DATABASE_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUT_MS, 100, 600_000),
  };
  return Object.freeze(config);
}

function webhookSettings(env: Env): WebhookConfig | undefined {
  const url = optional(env, 'WEBHOOK_URL');
  if (!url) return undefined;
  const secret = optional(env, 'WEBHOOK_SECRET');
  if (!secret) throw new ConfigError('WEBHOOK_URL is set: WEBHOOK_SECRET is required too (whsec_ followed by base64)');
  return checkWebhookConfig({
    url,
    secret: secret.trim(),
    retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', DEFAULT_WEBHOOK_RETRY.retryBaseMs, 1, 24 * 60 * 60 * 1000),
    retryHours: positiveNumber(env, 'WEBHOOK_RETRY_HOURS', DEFAULT_WEBHOOK_RETRY.retryHours),
  });
}

function redisSettings(env: Env): RedisSettings | undefined {
  const url = optional(env, 'REDIS_URL');
  if (!url) return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url}"`);
  return { url, keyPrefix: optional(env, 'REDIS_KEY_PREFIX') ?? DEFAULT_REDIS_KEY_PREFIX };
}
