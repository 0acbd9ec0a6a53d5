import type { Socket as NetSocket } from 'node:net';
import type { ChatServer } from './socket-notifier';

/** The raw TCP socket under a Socket.IO socket on the WebSocket transport (none on long-polling). */
type EngineSocket = { transport?: { name?: string; socket?: { _socket?: NetSocket } } };

/**
 * Holds back the TCP writes of every socket in `rooms` until the event loop's next turn, so that
 * the frames one send produces for a socket (its ack and `new_message` for the sender's tab;
 * `new_message` and `message_notification` for the receiver's), and those of every other message
 * in the same committed batch, leave in one write system call instead of one each: frame writes
 * are a large share of the server's CPU per message (docs/performance.md, "Send path").
 *
 * This reaches under engine.io and ws (both pinned): where the shape differs, the socket is simply
 * not corked and every frame is written at once, as before.
 */
export function coalesceWrites(io: ChatServer, rooms: readonly string[]): void {
  for (const room of rooms) {
    const ids = io.sockets.adapter.rooms.get(room);
    if (!ids) continue;
    for (const id of ids) {
      const tcp = tcpSocketOf(io.sockets.sockets.get(id));
      if (!tcp || tcp.destroyed || tcp.writableCorked > 0) continue;
      tcp.cork();
      setImmediate(() => tcp.uncork());
    }
  }
}

/** The TCP socket a Socket.IO socket writes its WebSocket frames to, if it has one. */
export function tcpSocketOf(socket: { conn: unknown } | undefined): NetSocket | undefined {
  const transport = (socket?.conn as EngineSocket | undefined)?.transport;
  return transport?.name === 'websocket' ? transport.socket?._socket : undefined;
}
