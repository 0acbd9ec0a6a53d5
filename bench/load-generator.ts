import type { Socket } from 'socket.io-client';
import { closeAndExit, CONTENT, connect, connectEach, pool, send, serveOrchestrator } from './client-sockets';
import type { BenchUser, OpenLoopSpec, ClosedLoopSpec, RoutedPair, RunResult, RunSpec } from './protocol';
import { SampleBuffer } from './stats';

/**
 * A load-generator child process. It runs apart from the orchestrator so that parsing thousands of
 * socket frames a second is not delayed by anything else, and a sender and its receiver live in the
 * same process so that end-to-end latency is measured on one monotonic clock.
 */

interface PairSockets {
  sender: Socket;
  receiverId: number;
}

/** One message in flight. `origin` is when it was scheduled (open loop) or emitted (closed loop). */
interface Tracked {
  origin: number;
  inWindow: boolean;
  ack: 'pending' | 'ok' | 'failed';
  deliveries: number;
  settled: boolean;
}

let connected: Socket[] = [];
let pairs: PairSockets[] = [];
let run: RunState | undefined;

async function connectPairs(list: RoutedPair[], concurrency: number): Promise<void> {
  const result: PairSockets[] = new Array(list.length);
  await pool(
    list.map((pair, i) => ({ pair, i })),
    concurrency,
    async ({ pair, i }) => {
      const [sender, receiver] = await Promise.all([connect(pair.senderUrl, pair.sender), connect(pair.receiverUrl, pair.receiver)]);
      connected.push(sender, receiver);
      receiver.on('new_message', (event: { message?: { clientMessageId?: string | null } }) => onDelivery(event?.message?.clientMessageId));
      result[i] = { sender, receiverId: pair.receiver.id };
    },
  );
  pairs = result;
  send({ type: 'connected', sockets: connected.length });
}

class RunState {
  readonly messages = new Map<string, Tracked>();
  readonly ackLatency = new SampleBuffer();
  readonly e2eLatency = new SampleBuffer();
  readonly errors: Record<string, number> = {};
  readonly start = performance.now();
  readonly windowStart: number;
  readonly windowEnd: number;
  sent = 0;
  sentInWindow = 0;
  ackOk = 0;
  ackedInWindow = 0;
  deliveredInWindow = 0;
  duplicates = 0;
  unsettled = 0;
  sendingDone = false;
  finished = false;
  private seq = 0;
  private drainTimer?: NodeJS.Timeout;

  constructor(
    readonly spec: RunSpec,
    private readonly onFinish: (result: RunResult) => void,
  ) {
    this.windowStart = this.start + spec.warmupMs;
    this.windowEnd = this.windowStart + spec.durationMs;
  }

  inWindow(t: number): boolean {
    return t >= this.windowStart && t < this.windowEnd;
  }

  /** Emits one message; `then` runs when its ack arrives (closed loop chains on it). */
  emit(pair: PairSockets, origin: number, then?: () => void): void {
    const clientMessageId = `${this.spec.tag}-${process.pid}-${this.seq++}`;
    const tracked: Tracked = { origin, inWindow: this.inWindow(origin), ack: 'pending', deliveries: 0, settled: false };
    this.messages.set(clientMessageId, tracked);
    this.sent++;
    this.unsettled++;
    if (tracked.inWindow) this.sentInWindow++;
    pair.sender.emit(
      'send_message',
      { receiverId: pair.receiverId, content: CONTENT, clientMessageId },
      (response: { ok?: boolean; error?: { code?: string } }) => {
        if (this.finished) return;
        const now = performance.now();
        if (response?.ok) {
          tracked.ack = 'ok';
          this.ackOk++;
          if (this.inWindow(now)) this.ackedInWindow++;
          if (tracked.inWindow) this.ackLatency.push(now - origin);
        } else {
          tracked.ack = 'failed';
          const code = response?.error?.code ?? 'MALFORMED_ACK';
          this.errors[code] = (this.errors[code] ?? 0) + 1;
        }
        this.settleIfDone(tracked);
        then?.();
      },
    );
  }

  delivered(tracked: Tracked): void {
    const now = performance.now();
    tracked.deliveries++;
    if (tracked.deliveries > 1) {
      this.duplicates++;
      return;
    }
    if (this.inWindow(now)) this.deliveredInWindow++;
    if (tracked.inWindow) this.e2eLatency.push(now - tracked.origin);
    this.settleIfDone(tracked);
  }

  /** A message is settled once its ack failed, or it was acked and delivered. */
  private settleIfDone(tracked: Tracked): void {
    if (tracked.settled) return;
    if (tracked.ack === 'failed' || (tracked.ack === 'ok' && tracked.deliveries > 0)) {
      tracked.settled = true;
      this.unsettled--;
      if (this.sendingDone && this.unsettled === 0) this.finish();
    }
  }

  doneSending(): void {
    if (this.sendingDone) return;
    this.sendingDone = true;
    if (this.unsettled === 0) this.finish();
    else this.drainTimer = setTimeout(() => this.finish(), this.spec.drainMs);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.drainTimer);
    let lost = 0;
    for (const tracked of this.messages.values()) {
      if (tracked.ack === 'pending') this.errors.NO_ACK = (this.errors.NO_ACK ?? 0) + 1;
      else if (tracked.ack === 'ok' && tracked.deliveries === 0) lost++;
    }
    this.onFinish({
      sent: this.sent,
      sentInWindow: this.sentInWindow,
      ackOk: this.ackOk,
      ackedInWindow: this.ackedInWindow,
      deliveredInWindow: this.deliveredInWindow,
      windowMs: this.spec.durationMs,
      errors: this.errors,
      lost,
      duplicates: this.duplicates,
      late: 0,
      ackLatencyMs: this.ackLatency.toArray(),
      e2eLatencyMs: this.e2eLatency.toArray(),
    });
  }
}

/** Deliveries that arrive after their run was counted (a slow drain), reported with the next result. */
let late = 0;

function onDelivery(clientMessageId: string | null | undefined): void {
  if (!clientMessageId) return;
  const tracked = run && !run.finished ? run.messages.get(clientMessageId) : undefined;
  if (tracked) run!.delivered(tracked);
  else late++;
}

function startRun(spec: RunSpec): void {
  if (run && !run.finished) throw new Error('a run is already in progress');
  const state = new RunState(spec, (result) => {
    result.late = late;
    late = 0;
    send({ type: 'result', result });
  });
  run = state;
  if (spec.mode === 'closed') closedLoop(state, spec);
  else openLoop(state, spec);
}

function closedLoop(state: RunState, spec: ClosedLoopSpec): void {
  // The window's end stops the chains; a chain whose ack never comes must not keep the run open.
  setTimeout(() => state.doneSending(), state.windowEnd - performance.now());
  const chain = (pair: PairSockets) => {
    const now = performance.now();
    if (state.finished || now >= state.windowEnd) return;
    state.emit(pair, now, () => chain(pair));
  };
  for (const pair of pairs) for (let k = 0; k < spec.inFlight; k++) chain(pair);
}

function openLoop(state: RunState, spec: OpenLoopSpec): void {
  const interval = 1000 / spec.rate;
  const total = Math.floor(((spec.warmupMs + spec.durationMs) / 1000) * spec.rate);
  let next = 0;
  // Timers fire at best every ~1 ms, so each tick sends everything that has fallen due; the
  // latency origin stays the scheduled time, so the tick's own lag is charged too.
  const tick = () => {
    const now = performance.now();
    while (next < total && state.start + next * interval <= now) {
      state.emit(pairs[next % pairs.length]!, state.start + next * interval);
      next++;
    }
    if (next < total) setTimeout(tick, Math.max(0, state.start + next * interval - performance.now()));
    else state.doneSending();
  };
  tick();
}

async function connectIdle(url: string, users: BenchUser[], concurrency: number): Promise<void> {
  const result = await connectEach(users, concurrency, async (user) => {
    connected.push(await connect(url, user));
  });
  send({ type: 'idle-connected', result });
}

function closeAll(): void {
  closeAndExit(connected);
  connected = [];
  pairs = [];
}

serveOrchestrator((message, fail) => {
  switch (message.type) {
    case 'connect-pairs':
      connectPairs(message.pairs, message.concurrency).catch(fail);
      break;
    case 'run':
      startRun(message.spec);
      break;
    case 'connect-idle':
      connectIdle(message.url, message.users, message.concurrency).catch(fail);
      break;
    case 'close':
      closeAll();
      break;
  }
});
