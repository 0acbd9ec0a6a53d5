import type { ChatServer } from './socket-notifier';
import { tcpSocketOf } from './socket-io-internals';

/**
 * Holds back the TCP writes of every socket in `rooms` until the event loop's next turn, so that
 * the frames one send produces for a socket (its ack and `new_message` for the sender's tab;
 * `new_message` and `message_notification` for the receiver's), and those of every other message
 * in the same committed batch, leave in one write system call instead of one each: frame writes
 * are a large share of the server's CPU per message (docs/performance.md, "Send path").
 *
 * The TCP socket is under engine.io and ws (socket-io-internals.ts): where it is missing, the
 * socket is simply not corked and every frame is written at once.
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
