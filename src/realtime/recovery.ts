import type { ChatSocket } from './ack';
import type { ChatServer } from './socket-notifier';
import { writeEventPacket } from './socket-io-internals';

type Adapter = ReturnType<ChatServer['of']>['adapter'];
type MissedPackets = NonNullable<Awaited<ReturnType<Adapter['restoreSession']>>>['missedPackets'];

const HOLD_MS = 30_000;

/**
 * Connection-state recovery that hands missed events over only once the handshake has re-checked
 * the token. Socket.IO writes a recovered socket's missed packets to the wire as soon as it creates
 * the socket, before any middleware runs (even with skipMiddlewares: false), so a client holding a
 * session id with an expired token, or with another user's token, would receive them. The
 * namespace adapter's restoreSession is wrapped to hold them back until `release` says who it is.
 * A host that swaps the adapter must do so before attaching Duet.
 */
export class RecoveryGate {
  private readonly held = new Map<string, MissedPackets>();

  constructor(io: ChatServer) {
    const adapter = io.of('/').adapter;
    const restore = adapter.restoreSession.bind(adapter);
    adapter.restoreSession = async (pid, offset) => {
      const session = await restore(pid, offset);
      if (!session) return session;
      const missed = session.missedPackets;
      this.held.set(session.sid, missed);
      // The handshake normally takes them at once; this only bounds what a host middleware that
      // refuses the socket before Duet's would otherwise leave behind.
      setTimeout(() => this.held.get(session.sid) === missed && this.held.delete(session.sid), HOLD_MS).unref();
      return { ...session, missedPackets: [] };
    };
  }

  /**
   * Called by the handshake for every socket. A refused socket (`userId` undefined) gets nothing;
   * a recovered one whose token names the same user gets its missed events, in order, ahead of
   * its CONNECT packet as Socket.IO would send them; one whose token names another user starts
   * as a fresh connection, without the previous user's rooms, state or events.
   */
  release(socket: ChatSocket, userId: number | undefined): void {
    const missed = this.held.get(socket.id);
    this.held.delete(socket.id);
    if (!socket.recovered || userId === undefined) return;
    if (socket.data.principal?.userId !== userId) {
      for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
      socket.data.typingMemo = undefined;
      return;
    }
    for (const data of missed ?? []) writeEventPacket(socket, data);
  }
}
