import { type Clock, DeadlineSchedule } from '../shared/deadline-schedule';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import { startPeriodic } from '../shared/periodic';
import type { UserDirectory } from '../users/user.directory';
import type { ChatSocket } from './ack';
import type { ChatServer } from './socket-notifier';

export type SessionEndReason = 'token_expired' | 'user_removed';

/** The most often connected users are looked up again, whatever USER_CACHE_MS says (0 turns the cache off). */
const MIN_USER_CHECK_MS = 1000;

/**
 * How often the users of connected sockets are looked up again: twice per USER_CACHE_MS, so that a
 * removal is noticed within it even when a check takes a while; at most once a second.
 */
export function userCheckInterval(userCacheMs: number): number {
  return Math.max(MIN_USER_CHECK_MS, Math.floor(userCacheMs / 2));
}

export interface SessionExpiryOptions {
  users: UserDirectory;
  userCacheMs: number;
  logger: Logger;
  clock?: Clock;
}

/**
 * Sessions end with their token (API.md): the handshake checks the token once, and this module
 * ends the sockets that outlive it. At the token's `exp` (one shared timer for every socket), or
 * once the host has removed the user (a periodic check off the hot paths), the socket gets
 * `session_expired` and is disconnected.
 */
export class SessionExpiry {
  private readonly expiries: DeadlineSchedule<ChatSocket>;
  private readonly stopUserChecks: () => void;

  constructor(
    private readonly io: ChatServer,
    private readonly options: SessionExpiryOptions,
  ) {
    // onDue must not throw: the rest of its deadline's group would lose their turn.
    const expire = (socket: ChatSocket) => {
      try {
        endSession(socket, 'token_expired');
      } catch (err) {
        errorLog(options.logger).error('ending an expired session failed', err);
      }
    };
    this.expiries = new DeadlineSchedule(expire, options.clock);
    this.stopUserChecks = startPeriodic(
      'session user check',
      userCheckInterval(options.userCacheMs),
      () => this.endRemovedUsers(),
      options.logger,
    );
  }

  /** A socket connected: its session ends at its token's exp. */
  started(socket: ChatSocket): void {
    const { expiresAt } = socket.data.principal;
    if (expiresAt !== undefined) this.expiries.add(socket, expiresAt);
  }

  /** A socket left, for whatever reason. */
  ended(socket: ChatSocket): void {
    const { expiresAt } = socket.data.principal;
    if (expiresAt !== undefined) this.expiries.remove(socket, expiresAt);
  }

  /**
   * Looks the users of this node's sockets up again (one query per chunk of ids, not one per
   * socket) and ends the sessions of those the host removed. Returns how many sockets it ended.
   */
  async endRemovedUsers(): Promise<number> {
    const sockets = this.io.sockets.sockets;
    if (!sockets.size) return 0;
    const checked = new Set<number>();
    for (const socket of sockets.values()) checked.add(socket.data.principal.userId);
    const present = await this.options.users.stillPresent([...checked]);
    // Sockets that connected while the query ran were not checked: their handshake just was.
    const removed = [...sockets.values()].filter(({ data: { principal } }) => checked.has(principal.userId) && !present.has(principal.userId));
    for (const socket of removed) endSession(socket, 'user_removed');
    return removed.length;
  }

  close(): void {
    this.stopUserChecks();
    this.expiries.close();
  }
}

/**
 * Tells the client why, then closes its connection. engine.io writes out what is buffered (the
 * event, then the DISCONNECT packet) before it closes the transport, so the client gets both.
 */
function endSession(socket: ChatSocket, reason: SessionEndReason): void {
  if (!socket.connected) return;
  socket.emit('session_expired', { reason });
  socket.disconnect(true);
}
