import type { Socket as NetSocket } from 'node:net';
import type { SessionAwareAdapter } from 'socket.io-adapter';

/**
 * Where Duet reaches under Socket.IO's public API, one function per reach: socket.io-adapter's
 * recovery buffer, a server socket's packet writer, and the TCP socket under engine.io's WebSocket
 * transport (ws). socket.io and socket.io-adapter are pinned in package.json; engine.io and ws come
 * with socket.io at the versions package-lock.json holds. tests/integration/private-internals.test.ts
 * checks each reach against the installed versions, so an upgrade that moves one fails there.
 * These sit on hot paths: plain property reads, nothing allocated per call.
 */

/** The recovery adapter's buffer of broadcast packets, oldest first; the caller may trim it in place. */
export function recoveryPacketsOf(adapter: SessionAwareAdapter): unknown[] {
  return (adapter as unknown as { packets: unknown[] }).packets;
}

/** Socket.IO's EVENT packet type (socket.io-parser's PacketType.EVENT). */
const EVENT_PACKET = 2;

/** Writes an event to a server socket the way Socket.IO writes a recovered socket's missed packets. */
export function writeEventPacket(socket: object, data: unknown[]): void {
  (socket as unknown as { packet(packet: { type: number; data: unknown[] }): void }).packet({ type: EVENT_PACKET, data });
}

/** engine.io's socket: its transport, and on the WebSocket transport the ws socket with its TCP socket. */
type EngineSocket = { transport?: { name?: string; socket?: { _socket?: NetSocket } } };

/** The TCP socket a Socket.IO socket writes its WebSocket frames to; none on long-polling or an unknown shape. */
export function tcpSocketOf(socket: { conn: unknown } | undefined): NetSocket | undefined {
  const transport = (socket?.conn as EngineSocket | undefined)?.transport;
  return transport?.name === 'websocket' ? transport.socket?._socket : undefined;
}
