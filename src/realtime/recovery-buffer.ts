import { type BroadcastOptions, SessionAwareAdapter } from 'socket.io-adapter';

/**
 * Socket.IO's recovery adapter keeps every broadcast event, with its payload, for the whole
 * recovery window, however fast they come: at 1,000 msgs/s (three events each) that is over half a
 * million events held in the heap for two minutes or more, which every major GC walks, and which a
 * recovering client's offset is looked up in one by one. This adapter keeps the newest `maxPackets`.
 * A client whose last event has dropped out is not recovered (`socket.recovered` is false) and
 * catches up from history with `after=`, which every client does anyway (docs/realtime.md).
 */
export function boundedRecoveryAdapter(maxPackets: number): typeof SessionAwareAdapter {
  return class BoundedRecoveryAdapter extends SessionAwareAdapter {
    override broadcast(packet: unknown, opts: BroadcastOptions): void {
      super.broadcast(packet, opts);
      const { packets } = this as unknown as { packets: unknown[] };
      // Trimmed a fifth at a time rather than one by one: shifting a long array costs its length.
      if (packets.length > maxPackets * 1.25) packets.splice(0, packets.length - maxPackets);
    }
  };
}
