import type http from 'node:http';
import { Server } from 'socket.io';
import type { TokenVerifier } from '../auth/token-verifier';
import type { FairUse } from '../limits/fair-use';
import type { ConversationService } from '../conversations/conversation.service';
import type { Sql } from '../db/sql';
import type { MessageService } from '../messages/message.service';
import { PresenceRepository } from '../presence/presence.repository';
import { PresenceService } from '../presence/presence.service';
import { MemoryPresenceStore, type PresenceStore } from '../presence/presence-store';
import { TypingTracker } from '../presence/typing-tracker';
import { TypingService } from '../presence/typing.service';
import type { ChatNotifier } from '../events/chat-notifier';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import type { UserDirectory } from '../users/user.directory';
import type { OriginPolicy } from '../http/origin-policy';
import { TRANSPORT_SECURITY_HEADERS } from '../http/security-headers';
import type { Cluster } from '../cluster/cluster';
import { clusterSocketAdapter } from '../cluster/cluster-adapter';
import { RedisPresenceStore } from '../cluster/redis-presence-store';
import { startPeriodic } from '../shared/periodic';
import { originGuard } from './origin-guard';
import { boundedRecoveryAdapter } from './recovery-buffer';
import { userRoom } from './rooms';
import { SessionExpiry } from './session-expiry';
import { registerSocketHandlers } from './socket.handler';
import { type ChatServer, socketNotifier } from './socket-notifier';

export interface RealtimeOptions {
  /** A typing state ends this long after the last `typing` (API.md: 10 s). */
  typingTtlMs: number;
  /** A user whose last socket left is announced offline after this (API.md: within 3 s). */
  presenceGraceMs: number;
  /** How long Socket.IO keeps a dropped connection's state for recovery. */
  recoveryWindowMs: number;
  /** One node: how many of the newest broadcast events are kept for recovery (bounds the memory it takes). */
  recoveryMaxEvents: number;
  /**
   * Several nodes: the Redis stream's length, which is both the reach of recovery and the most a
   * session restore reads (a reconnect storm stays cheap).
   */
  recoveryMaxReplay: number;
  /** Largest socket message; bigger ones close that connection. */
  maxPayloadBytes: number;
  presenceStore?: PresenceStore;
}

export const DEFAULT_REALTIME_OPTIONS: RealtimeOptions = Object.freeze({
  typingTtlMs: 10_000,
  presenceGraceMs: 2_000,
  recoveryWindowMs: 2 * 60_000,
  recoveryMaxEvents: 10_000,
  recoveryMaxReplay: 1000,
  maxPayloadBytes: 64 * 1024,
});

/** Several nodes: every node renews its heartbeat and settles what others left this often. */
const PRESENCE_SWEEP_MS = 2000;
/** A node silent for this long is dead and its users leave (API.md: offline within 30 s). */
const NODE_HEARTBEAT_TTL_MS = 15_000;

export interface RealtimeDeps {
  sql: Sql;
  verifier: TokenVerifier;
  fairUse: FairUse;
  /** SOCKET_MAX_PENDING, from the fair-use limits. */
  socketMaxPending: number;
  conversations: ConversationService;
  messages: MessageService;
  users: UserDirectory;
  /** USER_CACHE_MS: sockets of users the host removed end within it (session-expiry.ts). */
  userCacheMs: number;
  logger: Logger;
  originPolicy: OriginPolicy;
  /** With REDIS_URL: the cluster this node belongs to (docs/scaling.md). */
  cluster?: Cluster;
}

export interface Realtime {
  io: ChatServer;
  notifier: ChatNotifier;
  /** Disconnects every socket, records lastSeenAt of those leaving, and stops timers. */
  close(): Promise<void>;
}

/**
 * The Socket.IO gateway on an HTTP server (or on a host's own Server instance). Connection-state
 * recovery replays missed events after a short drop; the catch-up that always works is history
 * with after=<last id held> (docs/realtime.md).
 */
export function createRealtime(target: http.Server | Server, deps: RealtimeDeps, options: RealtimeOptions): Realtime {
  const ownsServer = !(target instanceof Server);
  const cluster = deps.cluster;
  // A host's own Server keeps its own adapter, which Duet cannot make cluster-wide.
  if (cluster && !ownsServer) throw new Error('createChat: with `redis`, attach() takes the http.Server, not a Socket.IO Server');
  const socketAdapter = cluster && clusterSocketAdapter(cluster.link, { maxEntries: options.recoveryMaxReplay });
  const io: ChatServer =
    target instanceof Server
      ? // A host's own Server is untyped; Duet's events are what it will carry.
        (target as unknown as ChatServer)
      : new Server(target, {
          connectionStateRecovery: { maxDisconnectionDuration: options.recoveryWindowMs, skipMiddlewares: false },
          adapter: socketAdapter?.adapter ?? boundedRecoveryAdapter(options.recoveryMaxEvents),
          perMessageDeflate: false,
          maxHttpBufferSize: options.maxPayloadBytes,
          // Long-polling from an allowed cross origin needs CORS headers; refusals are originGuard's.
          cors: (req, callback) => callback(null, { origin: deps.originPolicy.allows(req.headers.origin, req.headers.host) }),
        });
  if (ownsServer) io.engine.on('headers', (headers: Record<string, string>) => Object.assign(headers, TRANSPORT_SECURITY_HEADERS));
  // Before authentication: a refused origin costs no token check.
  io.use(originGuard(deps.originPolicy));

  const typing = new TypingTracker(options.typingTtlMs, ({ conversationId, userId, otherUserId, isTyping }) => {
    io.to(userRoom(otherUserId)).emit('user_typing', { conversationId, userId, isTyping });
  });
  const clusterPresence =
    cluster &&
    new RedisPresenceStore(cluster.link, {
      nodeId: cluster.nodeId,
      graceMs: options.presenceGraceMs,
      heartbeatTtlMs: NODE_HEARTBEAT_TTL_MS,
      onOrphaned: () => rejoin(),
    });
  const presence = new PresenceService({
    store: options.presenceStore ?? clusterPresence ?? new MemoryPresenceStore(),
    repository: new PresenceRepository(deps.sql),
    publish: (userIds, event) => io.to(userIds.map(userRoom)).emit('presence', event),
    graceMs: options.presenceGraceMs,
    onError: (err) => errorLog(deps.logger).error('presence update failed', err),
  });
  // Apart, so that a sweep held up by the database never delays this node's heartbeat.
  const stopHeartbeat = clusterPresence && startPeriodic('node heartbeat', PRESENCE_SWEEP_MS, () => clusterPresence.heartbeat().then(() => 0), deps.logger);
  const stopSweep = clusterPresence && startPeriodic('presence sweep', PRESENCE_SWEEP_MS, () => presence.sweep(), deps.logger);
  // Back from a Redis outage (or swept as dead): Redis learns this node's sockets again, and the
  // clients reconnect, unrecovered, to catch up with after= on what could not cross nodes (API.md).
  const rejoin = () => {
    // At once: a socket that drops while presence is resynced must not leave a session to recover.
    const sockets = [...io.of('/').sockets.values()];
    for (const socket of sockets) socketAdapter?.forgetSession(socket.id);
    socketAdapter?.endEpoch().catch((err: unknown) => errorLog(deps.logger).error('ending the session epoch failed', err));
    void presence
      .rejoined()
      .catch((err: unknown) => errorLog(deps.logger).error('presence resync failed', err))
      .finally(() => {
        for (const socket of sockets) socket.conn.close();
      });
  };
  cluster?.link.onRejoin(rejoin);
  const sessions = new SessionExpiry(io, { users: deps.users, userCacheMs: deps.userCacheMs, logger: deps.logger });
  registerSocketHandlers(io, {
    verifier: deps.verifier,
    fairUse: deps.fairUse,
    socketMaxPending: deps.socketMaxPending,
    conversations: deps.conversations,
    messages: deps.messages,
    presence,
    typing: new TypingService({ conversations: deps.conversations, tracker: typing }),
    sessions,
    logger: deps.logger,
  });

  let closed: Promise<void> | undefined;
  return {
    io,
    notifier: socketNotifier(io, typing),
    close: () =>
      (closed ??= (async () => {
        // Several nodes: the clients reconnect elsewhere and recover their session there (API.md).
        if (cluster) for (const socket of io.of('/').sockets.values()) socket.conn.close();
        else io.disconnectSockets(true);
        // Let the disconnect handlers record who left before presence writes lastSeenAt.
        await new Promise((resolve) => setImmediate(resolve));
        sessions.close();
        typing.close();
        // With the database away, who left is lost; the rest of the shutdown must still happen.
        await presence.close().catch((err: unknown) => errorLog(deps.logger).error('presence update failed', err));
        stopSweep?.();
        stopHeartbeat?.();
        await clusterPresence?.leave();
        // Stops the adapter's stream reader before the cluster's connections close under it.
        if (cluster) await io.of('/').adapter.close();
        // The HTTP server stays the caller's to close; only the engine we started stops here.
        if (ownsServer) io.engine.close();
      })()),
  };
}
