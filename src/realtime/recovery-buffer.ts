import { Adapter, type BroadcastOptions, SessionAwareAdapter } from 'socket.io-adapter';
import type { ServerToClientEvents } from './events';
import { recoveryPacketsOf } from './socket-io-internals';

/**
 * Events that describe a state rather than add to a history: a recovering client wants the state
 * now (it asks `get_online_status`, docs/realtime.md), not a replay of every change it missed, and
 * a reconnect storm's presence fan-out would otherwise push every message event out of the buffer.
 */
const NOT_REPLAYED: ReadonlySet<string> = new Set<keyof ServerToClientEvents>(['presence', 'user_typing']);

/** Whether a broadcast packet is kept for recovery (one node here; several: src/cluster/cluster-adapter.ts). */
export function isReplayed(packet: { data?: unknown[] }): boolean {
  const event = packet.data?.[0];
  return !(typeof event === 'string' && NOT_REPLAYED.has(event));
}

/**
 * Socket.IO's recovery adapter keeps every broadcast event, with its payload, for the whole
 * recovery window, however fast they come: a busy server holds hundreds of thousands in the heap,
 * which every major GC walks and a recovering client's offset is looked up in one by one
 * (docs/performance.md, "Memory: the recovery buffer"). This adapter keeps the newest `maxEvents`,
 * and none of the state events above. A client whose last event has dropped out is not recovered
 * (`socket.recovered` is false) and catches up from history with `after=`, which every client does
 * anyway (docs/realtime.md).
 */
export function boundedRecoveryAdapter(maxEvents: number): typeof SessionAwareAdapter {
  return class BoundedRecoveryAdapter extends SessionAwareAdapter {
    override broadcast(packet: { data?: unknown[] }, opts: BroadcastOptions): void {
      if (!isReplayed(packet)) {
        Adapter.prototype.broadcast.call(this, packet, opts);
        return;
      }
      super.broadcast(packet, opts);
      const packets = recoveryPacketsOf(this);
      // Trimmed a fifth at a time rather than one by one: shifting a long array costs its length.
      if (packets.length > maxEvents * 1.25) packets.splice(0, packets.length - maxEvents);
    }
  };
}
