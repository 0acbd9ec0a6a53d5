import type { Socket } from 'socket.io-client';
import { closeAndExit, CONTENT, connect, connectEach, send, serveOrchestrator } from './client-sockets';
import { openFileLimit, requireOpenFiles } from './descriptor-limits';
import type { Pair, SoakClientResult, SoakSpec } from './protocol';
import { SampleBuffer } from './stats';

/**
 * A soak client process: holds its share of the soak's sockets and sends a light, steady load over
 * them. The two users of a pair take turns, so every socket both sends and receives, and both live
 * in this process (one clock for end-to-end latency). Any disconnect the soak did not ask for is a
 * drop; a dropped socket is not reconnected (the target is that none drops).
 */

interface Tracked {
  /** When the message was scheduled: a client that falls behind is charged for its queue. */
  origin: number;
  receiverId: number;
  ack: 'pending' | 'ok' | 'failed';
  deliveries: number;
  /** Scheduled after the warm-up: its latencies count. */
  sampled: boolean;
  settled: boolean;
}

const sockets = new Map<number, Socket>();
let pairs: [number, number][] = [];
let closing = false;
let run: SoakRun | undefined;
const drops = { count: 0, reasons: {} as Record<string, number>, sessionExpired: 0 };

function watch(userId: number, socket: Socket): void {
  socket.on('new_message', (event: { message?: { clientMessageId?: string | null } }) => run?.onNewMessage(userId, event?.message?.clientMessageId));
  socket.on('session_expired', () => drops.sessionExpired++);
  socket.on('disconnect', (reason: string) => {
    if (closing) return;
    drops.count++;
    drops.reasons[reason] = (drops.reasons[reason] ?? 0) + 1;
    // The first few, as they happen: the time of a drop is the clue to its cause.
    if (drops.count <= 10) process.stdout.write(`  soak client ${process.pid}: user ${userId}'s socket dropped (${reason}) at ${new Date().toISOString()}\n`);
  });
}

async function connectPairs(url: string, list: Pair[], concurrency: number): Promise<void> {
  const users = list.flatMap((p) => [p.sender, p.receiver]);
  const limit = openFileLimit('self');
  requireOpenFiles(`soak client ${process.pid}`, limit, users.length + 256);
  const result = await connectEach(users, concurrency, async (user) => {
    const socket = await connect(url, user);
    sockets.set(user.id, socket);
    watch(user.id, socket);
  });
  pairs = list.map((p) => [p.sender.id, p.receiver.id]);
  send({ type: 'soak-connected', result, openFileLimit: limit === Infinity ? null : limit });
}

class SoakRun {
  private readonly messages = new Map<string, Tracked>();
  private readonly ackLatency = new SampleBuffer();
  private readonly e2eLatency = new SampleBuffer();
  private readonly errors: Record<string, number> = {};
  private readonly start = performance.now();
  private counts = { sent: 0, skipped: 0, ackOk: 0, delivered: 0, duplicates: 0, senderCopies: 0 };
  private unsettled = 0;
  private sendingDone = false;
  private finished = false;
  private drainTimer?: NodeJS.Timeout;

  constructor(private readonly spec: SoakSpec) {
    this.schedule();
  }

  /** Open loop at a fixed rate, as the knee's: message k goes out at start + k / rate. */
  private schedule(): void {
    const interval = 1000 / this.spec.rate;
    const total = Math.floor((this.spec.sendMs / 1000) * this.spec.rate);
    let next = 0;
    const tick = () => {
      const now = performance.now();
      for (; next < total && this.start + next * interval <= now; next++) this.emit(next, this.start + next * interval);
      if (next < total) setTimeout(tick, Math.max(0, this.start + next * interval - performance.now()));
      else this.doneSending();
    };
    tick();
  }

  /** Message k: pair k mod P, in the direction of its turn (a → b, then b → a on the next round). */
  private emit(k: number, origin: number): void {
    const [a, b] = pairs[k % pairs.length]!;
    const [from, to] = Math.floor(k / pairs.length) % 2 === 0 ? [a, b] : [b, a];
    const socket = sockets.get(from);
    if (!socket?.connected) {
      this.counts.skipped++;
      return;
    }
    const clientMessageId = `${this.spec.tag}-${process.pid}-${k}`;
    const tracked: Tracked = { origin, receiverId: to, ack: 'pending', deliveries: 0, sampled: origin - this.start >= this.spec.warmupMs, settled: false };
    this.messages.set(clientMessageId, tracked);
    this.counts.sent++;
    this.unsettled++;
    socket.emit('send_message', { receiverId: to, content: CONTENT, clientMessageId }, (response: { ok?: boolean; error?: { code?: string } }) => {
      if (this.finished) return;
      if (response?.ok) {
        tracked.ack = 'ok';
        this.counts.ackOk++;
        if (tracked.sampled) this.ackLatency.push(performance.now() - origin);
      } else {
        tracked.ack = 'failed';
        const code = response?.error?.code ?? 'MALFORMED_ACK';
        this.errors[code] = (this.errors[code] ?? 0) + 1;
      }
      this.settleIfDone(tracked);
    });
  }

  onNewMessage(userId: number, clientMessageId: string | null | undefined): void {
    const tracked = clientMessageId ? this.messages.get(clientMessageId) : undefined;
    if (!tracked || this.finished) return;
    if (tracked.receiverId !== userId) {
      this.counts.senderCopies++;
      return;
    }
    if (++tracked.deliveries > 1) {
      this.counts.duplicates++;
      return;
    }
    this.counts.delivered++;
    if (tracked.sampled) this.e2eLatency.push(performance.now() - tracked.origin);
    this.settleIfDone(tracked);
  }

  /** Settled once its ack failed, or it was acked and delivered. */
  private settleIfDone(tracked: Tracked): void {
    if (tracked.settled || !(tracked.ack === 'failed' || (tracked.ack === 'ok' && tracked.deliveries > 0))) return;
    tracked.settled = true;
    if (--this.unsettled === 0 && this.sendingDone) this.finish();
  }

  private doneSending(): void {
    this.sendingDone = true;
    if (this.unsettled === 0) this.finish();
    else this.drainTimer = setTimeout(() => this.finish(), this.spec.drainMs);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.drainTimer);
    let lost = 0;
    for (const tracked of this.messages.values()) {
      if (tracked.ack === 'pending') this.errors.NO_ACK = (this.errors.NO_ACK ?? 0) + 1;
      else if (tracked.ack === 'ok' && tracked.deliveries === 0) lost++;
    }
    let connectedAtEnd = 0;
    for (const socket of sockets.values()) if (socket.connected) connectedAtEnd++;
    const result: SoakClientResult = {
      ...this.counts,
      errors: this.errors,
      lost,
      dropped: drops.count,
      dropReasons: drops.reasons,
      sessionExpired: drops.sessionExpired,
      connectedAtEnd,
      ackLatencyMs: this.ackLatency.toArray(),
      e2eLatencyMs: this.e2eLatency.toArray(),
    };
    send({ type: 'soak-result', result });
  }
}

function closeAll(): void {
  closing = true;
  closeAndExit(sockets.values());
  sockets.clear();
}

serveOrchestrator((message, fail) => {
  switch (message.type) {
    case 'soak-connect':
      connectPairs(message.url, message.pairs, message.concurrency).catch(fail);
      break;
    case 'soak-send':
      if (run) throw new Error('the soak is already sending');
      run = new SoakRun(message.spec);
      break;
    case 'close':
      closeAll();
      break;
  }
});
