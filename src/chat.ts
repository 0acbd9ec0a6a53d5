import type { Router } from 'express';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { TokenVerifier } from './auth/token-verifier';
import {
  type AuthConfig,
  checkAuthConfig,
  checkCorsOrigins,
  checkHostUsersConfig,
  checkWebhookConfig,
  DEFAULT_LIMITS,
  type HostUsersConfig,
  type LimitsConfig,
  type WebhookConfig,
} from './config';
import { DEFAULT_HOST_USERS } from './config/host-users';
import { AdminMessageRepository } from './admin/admin-message.repository';
import { AdminService } from './admin/admin.service';
import { AuditLogRepository } from './audit/audit-log.repository';
import { AttachmentRepository } from './attachments/attachment.repository';
import { AttachmentService } from './attachments/attachment.service';
import { type AttachmentStorage, LocalDiskStorage } from './attachments/attachment-storage';
import { DEFAULT_ALLOWED_TYPES } from './attachments/content-type';
import { DEFAULT_ORPHAN_TTL_MS, startOrphanSweep } from './attachments/orphan-sweep';
import { DEFAULT_QUOTA_BYTES } from './attachments/upload-reservations';
import { prepareSpoolDirectory } from './attachments/upload-spool';
import os from 'node:os';
import path from 'node:path';
import { startPeriodic } from './shared/periodic';
import { ConversationRepository } from './conversations/conversation.repository';
import { ConversationService } from './conversations/conversation.service';
import { migrate } from './db/migrator';
import { createSequelize } from './db/sequelize';
import { type ChatModels, defineChatModels } from './db/chat-models';
import { DEFAULT_DATABASE_TIMEOUT_MS, Sql } from './db/sql';
import { type ChatNotifier, silentNotifier } from './events/chat-notifier';
import { createChatRouter } from './http/chat.router';
import { OriginPolicy } from './http/origin-policy';
import { MessageRepository } from './messages/message.repository';
import { MessageService } from './messages/message.service';
import { DEFAULT_WRITER_OPTIONS, MessageWriter } from './messages/message-writer';
import { SendBatchRepository } from './messages/send-batch.repository';
import { FairUse } from './limits/fair-use';
import type { BucketConfig, RateClass, RateLimits } from './limits/rate-classes';
import { MemoryTokenBucketStore, type TokenBucketStore } from './limits/token-bucket-store';
import { type Cluster, joinCluster } from './cluster/cluster';
import { DEFAULT_REDIS_KEY_PREFIX, type RedisSettings } from './cluster/redis-settings';
import { type ChatMetrics, createMetrics } from './ops/metrics';
import { DependencyProbe, type Readiness, ReadinessCheck } from './ops/readiness';
import { createRealtime, DEFAULT_REALTIME_OPTIONS, type Realtime, type RealtimeOptions } from './realtime/realtime';
import type { Server as SocketServer } from 'socket.io';
import type http from 'node:http';
import { createLogger, type Logger } from './shared/logger';
import { UserDirectory } from './users/user.directory';
import { defineUserModel } from './users/user.model';
import { ReceiverPresence } from './webhooks/receiver-presence';
import { WebhookAdminService } from './webhooks/webhook-admin.service';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';
import type { WebhookQueue } from './webhooks/webhook-events';
import { WebhookOutboxRepository } from './webhooks/webhook-outbox.repository';
import { WebhookRenderer } from './webhooks/webhook-renderer';

const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** Longer than any upload lasts (Node's server gives a request 5 minutes by default). */
const STALE_SPOOL_MS = 60 * 60 * 1000;
/** How much longer than the database timeout a call may wait for its user's lane. */
const LANE_WAIT_MARGIN_MS = 1000;
/** /ready reuses a probe's answer this long: a probe per load-balancer call, not per request burst. */
const READINESS_REUSE_MS = 1000;

export interface ChatOptions {
  /** The host's Sequelize instance (sequelize-typescript or plain Sequelize 6); Duet leaves it open on close(). */
  sequelize?: Sequelize;
  /** Or a connection string; Duet then owns (and closes) the pool. */
  databaseUrl?: string;
  auth: Partial<AuthConfig> & Pick<AuthConfig, 'secret'> | Partial<AuthConfig> & Pick<AuthConfig, 'publicKey'>;
  users?: Partial<HostUsersConfig>;
  /**
   * The host's own model of its users table, for the associations of `chat.models` (a message's
   * `sender`, a conversation's `participant1`...). Default: a read-only model of `users.table`.
   */
  userModel?: ModelStatic<Model>;
  /** Limits; `rates` may name only the classes and fields that differ from the defaults. */
  limits?: Partial<Omit<LimitsConfig, 'rates'>> & { rates?: Partial<Record<RateClass, Partial<BucketConfig>>> };
  /** Where the fair-use token buckets live (default: this process's memory, or Redis with `redis`). */
  rateLimitStore?: TokenBucketStore;
  /**
   * Several nodes (REDIS_URL): Socket.IO events, presence, typing and the token buckets are shared
   * through this Redis (7.0 or later); `keyPrefix` (default `duet:`) starts every key Duet uses.
   */
  redis?: { url: string; keyPrefix?: string };
  logger?: Logger;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** NODE_ENV=production semantics for the auth check (no development secret). */
  production?: boolean;
  /** How long a looked-up host user is trusted (default 30000); sockets of removed users end within it. */
  userCacheMs?: number;
  dbPoolMax?: number;
  /**
   * Longest wait for the database in a request (default 5000): then UNAVAILABLE. It bounds every
   * statement; with a host's Sequelize, its pool's `acquire` and `connectionTimeoutMillis` bound the rest.
   */
  databaseTimeoutMs?: number;
  /** Send batches written at once (default 1; see docs/performance.md, "Send path"). */
  sendBatchesInFlight?: number;
  /** Node process metrics in the registry (default true; a host with its own may turn them off). */
  processMetrics?: boolean;
  /** Purge soft-deleted messages this many days after their deletion (0 or unset: keep them). */
  retentionDays?: number;
  /**
   * Browser origins that may call the REST API and open sockets besides the server's own, such as
   * `https://app.example.com` (`*`: any). Default: the same origin only; requests without an Origin always pass.
   */
  corsOrigins?: readonly string[];
  /**
   * Webhooks to the host's back end (API.md, "Webhooks to the host"): signed with `secret` (a
   * Standard Webhooks secret, `whsec_` + base64); retried from about `retryBaseMs` (default 5000)
   * for `retryHours` (default 24). Unset: nothing is queued and no worker runs.
   */
  webhooks?: Partial<WebhookConfig> & Pick<WebhookConfig, 'url' | 'secret'>;
  /** Socket.IO gateway settings (typing expiry, presence grace, recovery window, payload size). */
  realtime?: Partial<RealtimeOptions>;
  attachments?: {
    /** Where bytes go; default: local disk under `directory`. */
    storage?: AttachmentStorage;
    /** Default ./.data/attachments. */
    directory?: string;
    /** MIME types allowed, decided from the bytes (default: PNG, JPEG, GIF, WebP, PDF, text). */
    allowedTypes?: readonly string[];
    /** Uploads never sent are removed after this long (default 24 h); 0 turns the sweep off. */
    orphanTtlMs?: number;
    /** What one user's stored attachments may take, in bytes (default 1 GiB). */
    quotaBytes?: number;
    /** Where uploads are written while they arrive; default `directory/.incoming`, or the OS temp directory with a `storage`. */
    spoolDirectory?: string;
  };
}

export interface ChatServices {
  conversations: ConversationService;
  messages: MessageService;
  admin: AdminService;
  webhooks: WebhookAdminService;
  attachments: AttachmentService;
  verifier: TokenVerifier;
  users: UserDirectory;
}

export interface Chat {
  /** Mount at /api/chat. */
  router: Router;
  services: ChatServices;
  metrics: ChatMetrics;
  sequelize: Sequelize;
  /** Conversation, Message, Attachment, AuditEntry and User, bound to `sequelize` and associated. */
  models: ChatModels;
  logger: Logger;
  /**
   * Starts the Socket.IO gateway on the host's HTTP server (or on the host's own Socket.IO Server,
   * which should enable connectionStateRecovery with skipMiddlewares: false). Once per chat.
   */
  attach(target: http.Server | SocketServer): Realtime;
  /** true when the database answers. */
  isReady(): Promise<boolean>;
  /** What /ready reports: the database and (with several nodes) Redis, each within the database timeout. */
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
}

/**
 * Builds Duet for a host (or for the standalone server, which calls this too): services, the REST
 * router and metrics over one database connection.
 */
export async function createChat(options: ChatOptions): Promise<Chat> {
  const auth: AuthConfig = { userClaim: 'sub', roleClaim: 'role', ...options.auth };
  checkAuthConfig(auth, options.production ?? false);
  const users: HostUsersConfig = { ...DEFAULT_HOST_USERS, ...options.users };
  checkHostUsersConfig(users);
  const limits: LimitsConfig = { ...DEFAULT_LIMITS, ...options.limits, rates: mergeRates(DEFAULT_LIMITS.rates, options.limits?.rates) };
  const originPolicy = new OriginPolicy(checkCorsOrigins(options.corsOrigins ?? []));
  const webhookConfig = options.webhooks && checkWebhookConfig(options.webhooks);
  const logger = options.logger ?? createLogger();

  if (!options.sequelize && !options.databaseUrl) throw new Error('createChat needs sequelize or databaseUrl');
  const ownsDatabase = !options.sequelize;
  const databaseTimeoutMs = options.databaseTimeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
  const sequelize =
    options.sequelize ?? createSequelize({ url: options.databaseUrl!, poolMax: options.dbPoolMax, timeoutMs: databaseTimeoutMs });
  const userModel = defineUserModel(sequelize, users);
  if (options.userModel) checkHostUserModel(options.userModel, users);
  const models = defineChatModels(sequelize, options.userModel ?? userModel);
  if (options.migrate ?? true) await migrate(sequelize, users);

  const sql = new Sql(sequelize, databaseTimeoutMs);
  const redis: RedisSettings | undefined = options.redis && { url: options.redis.url, keyPrefix: options.redis.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX };
  const cluster: Cluster | undefined = redis && (await joinCluster(redis, logger));
  const probeOptions = { timeoutMs: databaseTimeoutMs, reuseMs: READINESS_REUSE_MS, logger };
  const readiness = new ReadinessCheck({
    database: new DependencyProbe('database', () => sql.ping(), probeOptions),
    redis: cluster && new DependencyProbe('Redis', () => cluster.link.ping(), probeOptions),
  });
  const userCacheMs = options.userCacheMs ?? 30_000;
  const userDirectory = new UserDirectory(sql, userModel, userCacheMs);
  const conversationRepository = new ConversationRepository(sql);
  const messageRepository = new MessageRepository(sql);
  const audit = new AuditLogRepository(sql, models);
  const attachmentRepository = new AttachmentRepository(sql);
  const attachmentDirectory = path.resolve(options.attachments?.directory ?? '.data/attachments');
  const attachments = new AttachmentService({
    sql,
    repository: attachmentRepository,
    storage: options.attachments?.storage ?? new LocalDiskStorage(attachmentDirectory),
    allowedTypes: options.attachments?.allowedTypes ?? DEFAULT_ALLOWED_TYPES,
    quotaBytes: options.attachments?.quotaBytes ?? DEFAULT_QUOTA_BYTES,
    logger,
  });
  // Beside the local files, a finished upload is renamed into place instead of copied.
  const uploadSpoolDirectory = path.resolve(
    options.attachments?.spoolDirectory ??
      (options.attachments?.storage ? path.join(os.tmpdir(), 'duet-uploads') : path.join(attachmentDirectory, '.incoming')),
  );
  await prepareSpoolDirectory(uploadSpoolDirectory, STALE_SPOOL_MS);
  const metrics = createMetrics(sequelize, { defaultMetrics: options.processMetrics ?? true });

  // The services hold this object; attach() points it at the socket gateway.
  let target: ChatNotifier = silentNotifier;
  let realtime: Realtime | undefined;
  const notifier: ChatNotifier = {
    messageSent: (event) => {
      metrics.messagesSent.inc();
      target.messageSent(event);
    },
    messagesRead: (event) => target.messagesRead(event),
    messagesDelivered: (event) => target.messagesDelivered(event),
    messageDeleted: (event) => target.messageDeleted(event),
    messageRestored: (event) => target.messageRestored(event),
  };

  const conversations = new ConversationService({ conversations: conversationRepository, messages: messageRepository, users: userDirectory });

  // Webhooks: the outbox is written in the changes' transactions; this node's worker delivers.
  const outbox = new WebhookOutboxRepository(sql);
  const receiverPresence = new ReceiverPresence(cluster?.link);
  const dispatcher =
    webhookConfig &&
    new WebhookDispatcher({
      outbox,
      renderer: new WebhookRenderer(conversations),
      config: webhookConfig,
      metrics: {
        delivered: (latencySeconds) => {
          metrics.webhooks.delivered.inc();
          metrics.webhooks.latency.observe(latencySeconds);
        },
        failed: () => metrics.webhooks.failed.inc(),
      },
      logger,
    });
  const webhooks: WebhookQueue | undefined = dispatcher && {
    add: (events, transaction) => outbox.add(events, transaction),
    eraseMessage: (messageId, transaction) => outbox.eraseMessage(messageId, transaction),
    nudge: () => dispatcher.nudge(),
  };
  if (dispatcher) metrics.webhooks.countPending = () => outbox.pendingCount();
  const messages = new MessageService({
    sql,
    conversations: conversationRepository,
    messages: messageRepository,
    conversationService: conversations,
    users: userDirectory,
    notifier,
    audit,
    attachments: attachmentRepository,
    writer: new MessageWriter(
      new SendBatchRepository(sql, dispatcher && { connected: (userIds) => receiverPresence.connected(userIds), committed: () => dispatcher.nudge() }),
      {
        ...DEFAULT_WRITER_OPTIONS,
        maxInFlight: options.sendBatchesInFlight ?? DEFAULT_WRITER_OPTIONS.maxInFlight,
        timeoutMs: databaseTimeoutMs,
      },
    ),
    maxMessageLength: limits.maxMessageLength,
    webhooks,
  });
  const admin = new AdminService({
    sql,
    adminMessages: new AdminMessageRepository(sql, models),
    conversations: conversationRepository,
    conversationService: conversations,
    audit,
    notifier,
    webhooks,
    onPurged: async (message) => {
      if (message.attachmentId !== null) await attachments.remove(message.attachmentId);
    },
  });
  const webhookAdmin = new WebhookAdminService({
    outbox,
    authorize: (principal) => admin.authorize(principal),
    enabled: dispatcher !== undefined,
    nudge: () => dispatcher?.nudge(),
  });
  dispatcher?.start();
  const orphanSweep = startOrphanSweep(attachments, options.attachments?.orphanTtlMs ?? DEFAULT_ORPHAN_TTL_MS, logger);
  const retentionDays = options.retentionDays ?? 0;
  const retention =
    retentionDays > 0
      ? startPeriodic('retention purge', RETENTION_INTERVAL_MS, () => admin.purgeDeletedBefore(new Date(Date.now() - retentionDays * DAY_MS)), logger)
      : undefined;
  const verifier = new TokenVerifier(auth, userDirectory);
  const fairUse = new FairUse(options.rateLimitStore ?? cluster?.rateLimitStore ?? new MemoryTokenBucketStore(), conversations, {
    rates: limits.rates,
    exemptUserIds: new Set(limits.exemptUserIds),
    userConcurrency: 1,
    // Longer than the operation ahead can take when the database hangs, so that queued calls are
    // answered UNAVAILABLE with it, not RATE_LIMITED just before (src/limits/user-lanes.ts).
    laneWaitMs: databaseTimeoutMs + LANE_WAIT_MARGIN_MS,
  });
  const router = createChatRouter({
    verifier,
    fairUse,
    conversations,
    messages,
    admin,
    webhooks: webhookAdmin,
    attachments,
    logger,
    metrics,
    maxJsonBytes: limits.maxJsonBytes,
    maxUploadBytes: limits.maxUploadBytes,
    uploadSpoolDirectory,
    originPolicy,
  });

  return {
    router,
    services: { conversations, messages, admin, webhooks: webhookAdmin, attachments, verifier, users: userDirectory },
    metrics,
    sequelize,
    models,
    logger,
    attach: (server) => {
      if (realtime) throw new Error('createChat: attach() was already called');
      realtime = createRealtime(
        server,
        { sql, verifier, fairUse, socketMaxPending: limits.socketMaxPending, conversations, messages, users: userDirectory, userCacheMs, logger, originPolicy, cluster },
        { ...DEFAULT_REALTIME_OPTIONS, ...options.realtime },
      );
      target = realtime.notifier;
      receiverPresence.attach(realtime.io);
      return realtime;
    },
    isReady: async () => (await readiness.check()).database === 'up',
    readiness: () => readiness.check(),
    close: async () => {
      orphanSweep?.();
      retention?.();
      await realtime?.close();
      // Before the pool closes: attempts in flight are recorded as due again.
      await dispatcher?.close();
      await cluster?.close();
      if (ownsDatabase) await sequelize.close();
    },
  };
}

/** A host's user model must map the table Duet reads users from. */
function checkHostUserModel(model: ModelStatic<Model>, users: HostUsersConfig): void {
  const mapped = model.getTableName();
  const table = typeof mapped === 'string' ? mapped : mapped.tableName;
  if (table !== users.table) {
    throw new Error(`createChat: userModel maps the table "${table}", but users are read from "${users.table}" (set users.table)`);
  }
}

function mergeRates(defaults: RateLimits, given?: Partial<Record<RateClass, Partial<BucketConfig>>>): RateLimits {
  const rates = { ...defaults };
  for (const [rateClass, bucket] of Object.entries(given ?? {}) as [RateClass, Partial<BucketConfig>][]) {
    rates[rateClass] = { ...defaults[rateClass], ...bucket };
  }
  return rates;
}

