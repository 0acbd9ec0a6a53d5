import {
  graceExpired,
  isOnline,
  type PresenceAction,
  type PresenceState,
  socketConnected,
  socketDisconnected,
} from './presence-rules';

/**
 * Who is online. In memory for a single node; a Redis-backed store can implement the same
 * interface when Duet runs on several nodes.
 */
export interface PresenceStore {
  connected(userId: number, socketId: string): Promise<PresenceAction>;
  disconnected(userId: number, socketId: string): Promise<PresenceAction>;
  graceExpired(userId: number): Promise<PresenceAction>;
  online(userIds: readonly number[]): Promise<Set<number>>;
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
}
