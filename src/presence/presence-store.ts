import {
  graceExpired,
  isOnline,
  type PresenceAction,
  type PresenceState,
  socketConnected,
  socketDisconnected,
} from './presence-rules';

/** A user whose grace period ended on another node, or who was on a node that died. */
export interface SweptUser {
  userId: number;
  /** When they left. */
  at: Date;
}

/**
 * Who is online. In memory for a single node; in Redis for several (src/cluster/), where a node
 * also settles what other nodes left behind: `sweep` runs every few seconds on every node.
 */
export interface PresenceStore {
  connected(userId: number, socketId: string): Promise<PresenceAction>;
  disconnected(userId: number, socketId: string): Promise<PresenceAction>;
  graceExpired(userId: number): Promise<PresenceAction>;
  online(userIds: readonly number[]): Promise<Set<number>>;
  sweep?(): Promise<SweptUser[]>;
  /** After an outage of the shared store: writes this node's sockets back; returns who that brought online. */
  resync?(): Promise<number[]>;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly state: PresenceState = new Map();

  async connected(userId: number, socketId: string): Promise<PresenceAction> {
    return socketConnected(this.state, userId, socketId);
  }

  async disconnected(userId: number, socketId: string): Promise<PresenceAction> {
    return socketDisconnected(this.state, userId, socketId);
  }

  async graceExpired(userId: number): Promise<PresenceAction> {
    return graceExpired(this.state, userId);
  }

  async online(userIds: readonly number[]): Promise<Set<number>> {
    return new Set(userIds.filter((id) => isOnline(this.state, id)));
  }

  /** Each user's socket count on this node. */
  socketCounts(): Array<[userId: number, count: number]> {
    return [...this.state].filter(([, user]) => user.sockets.size > 0).map(([userId, user]) => [userId, user.sockets.size]);
  }
}
