/**
 * Presence as a pure state machine over a user's sockets. A user is online while at least one
 * socket is connected. When the last one leaves, the user is offline only after a grace period,
 * so a page reload or a network blip does not flap their status for everyone else.
 */
export interface UserSockets {
  sockets: Set<string>;
  /** Their last socket left and the grace period is running. */
  leaving: boolean;
}

export type PresenceState = Map<number, UserSockets>;

/** What the caller must do after a transition. */
export type PresenceAction = 'announce-online' | 'start-grace' | 'announce-offline' | 'nothing';

export function socketConnected(state: PresenceState, userId: number, socketId: string): PresenceAction {
  const user = state.get(userId);
  if (!user) {
    state.set(userId, { sockets: new Set([socketId]), leaving: false });
    return 'announce-online';
  }
  user.sockets.add(socketId);
  if (user.leaving) {
    // Back within the grace period: nobody was told they left.
    user.leaving = false;
  }
  return 'nothing';
}

export function socketDisconnected(state: PresenceState, userId: number, socketId: string): PresenceAction {
  const user = state.get(userId);
  if (!user || !user.sockets.delete(socketId)) return 'nothing';
  if (user.sockets.size > 0) return 'nothing';
  user.leaving = true;
  return 'start-grace';
}

export function graceExpired(state: PresenceState, userId: number): PresenceAction {
  const user = state.get(userId);
  if (!user || !user.leaving || user.sockets.size > 0) return 'nothing';
  state.delete(userId);
  return 'announce-offline';
}

export function isOnline(state: PresenceState, userId: number): boolean {
  return state.has(userId);
}
