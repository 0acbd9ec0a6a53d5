/** Messages between the orchestrator (run.ts) and its load-generator child processes. */

export interface BenchUser {
  id: number;
  token: string;
}

/** A sender socket that only sends and a receiver socket that only receives. */
export interface Pair {
  sender: BenchUser;
  receiver: BenchUser;
}

interface RunTiming {
  /** Sent but not counted in rates or latencies: lets connections, caches and the JIT settle. */
  warmupMs: number;
  /** The measurement window. */
  durationMs: number;
  /** After the last send, how long to wait for acks and deliveries before counting what is missing. */
  drainMs: number;
  /** Prefix of every clientMessageId of the run, so its stored rows can be found afterwards. */
  tag: string;
}

/** Closed loop: each sender keeps `inFlight` messages outstanding and sends the next on each ack. */
export interface ClosedLoopSpec extends RunTiming {
  mode: 'closed';
  inFlight: number;
}

/**
 * Open loop: messages are sent on a fixed schedule whatever the server does, and latency is taken
 * from the scheduled time, so a server that falls behind is charged for the queue it builds.
 */
export interface OpenLoopSpec extends RunTiming {
  mode: 'open';
  /** This process's share of the total rate, messages per second. */
  rate: number;
}

export type RunSpec = ClosedLoopSpec | OpenLoopSpec;

export interface RunResult {
  /** Messages sent over the whole run (warm-up included). */
  sent: number;
  sentInWindow: number;
  ackOk: number;
  ackedInWindow: number;
  deliveredInWindow: number;
  windowMs: number;
  /** ok:false acks by error code; NO_ACK for acks still missing when the drain ended. */
  errors: Record<string, number>;
  /** Acked ok but never delivered to the receiver's socket before the drain ended. */
  lost: number;
  /** Extra deliveries of a clientMessageId to the receiver socket that already had it. */
  duplicates: number;
  /** Deliveries of messages from an earlier, already counted run (a slow drain). */
  late: number;
  /** Ack latency of messages sent in the window, ms (from the scheduled time in open loop). */
  ackLatencyMs: Float64Array;
  /** Send → receiver's new_message, same origin as ackLatencyMs. */
  e2eLatencyMs: Float64Array;
}

export interface IdleResult {
  connected: number;
  failed: number;
  errors: Record<string, number>;
  /** Epoch ms: several processes are compared, so not performance.now(). */
  startedAt: number;
  finishedAt: number;
}

export type ParentMessage =
  | { type: 'connect-pairs'; url: string; pairs: Pair[]; concurrency: number }
  | { type: 'run'; spec: RunSpec }
  | { type: 'connect-idle'; url: string; users: BenchUser[]; concurrency: number }
  | { type: 'close' };

export type ChildMessage =
  | { type: 'connected'; sockets: number }
  | { type: 'result'; result: RunResult }
  | { type: 'idle-connected'; result: IdleResult }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
