import type { RedisLink } from '../cluster/redis-link';
import { usersWithSockets } from '../cluster/redis-presence-store';
import { userRoom } from '../realtime/rooms';
import type { ChatServer } from '../realtime/socket-notifier';

/**
 * Who has a socket connected right now, for message.created's `receiverOnline`: anywhere in the
 * cluster from Redis's presence counts when there is a cluster and Redis answers, else this node's
 * own sockets (every socket joins its user's room on connect and leaves it on disconnect, so the
 * presence grace period never counts as connected).
 */
export class ReceiverPresence {
  private io?: ChatServer;

  constructor(private readonly link?: RedisLink) {}

  /** The gateway whose sockets count on this node (attach() in chat.ts). */
  attach(io: ChatServer): void {
    this.io = io;
  }

  async connected(userIds: readonly number[]): Promise<Set<number>> {
    if (this.link?.isUp) {
      try {
        return await usersWithSockets(this.link, userIds);
      } catch {
        this.link.failed();
      }
    }
    const rooms = this.io?.of('/').adapter.rooms;
    return new Set(userIds.filter((userId) => (rooms?.get(userRoom(userId))?.size ?? 0) > 0));
  }
}
