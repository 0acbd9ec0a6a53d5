/** Messages between the orchestrator (run.ts) and its load-generator child processes (also the soak's). */

export interface BenchUser {
  id: number;
  token: string;
}

/** A sender socket that only sends and a receiver socket that only receives. */
export interface Pair {
  sender: BenchUser;
  receiver: BenchUser;
}

/** A pair and the server each of its sockets connects to: the same one, or two nodes of a cluster. */
export interface RoutedPair extends Pair {
  senderUrl: string;
  receiverUrl: string;
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

/** The soak's steady load: this process's share of the rate, over its pairs, both directions in turn. */
export interface SoakSpec {
  /** Messages per second sent by this process. */
  rate: number;
  /** How long to send for (warm-up included). */
  sendMs: number;
  /** Latencies are sampled only for messages scheduled after the warm-up. */
  warmupMs: number;
  drainMs: number;
  tag: string;
}

export interface SoakClientResult {
  sent: number;
  /** Sends not made because the sending socket had dropped. */
  skipped: number;
  ackOk: number;
  /** ok:false acks by error code; NO_ACK for acks still missing when the drain ended. */
  errors: Record<string, number>;
  /** First deliveries to the receiver's socket. */
  delivered: number;
  /** Acked ok but never delivered to the receiver's socket before the drain ended. */
  lost: number;
  /** Extra deliveries of a clientMessageId to the receiver's socket. */
  duplicates: number;
  /** new_message on the sender's own socket (the contract sends it to both participants). */
  senderCopies: number;
  /** Disconnects the soak did not ask for, and their reasons as socket.io-client gives them. */
  dropped: number;
  dropReasons: Record<string, number>;
  sessionExpired: number;
  connectedAtEnd: number;
  ackLatencyMs: Float64Array;
  e2eLatencyMs: Float64Array;
}

export type ParentMessage =
  | { type: 'connect-pairs'; pairs: RoutedPair[]; concurrency: number }
  | { type: 'run'; spec: RunSpec }
  | { type: 'connect-idle'; url: string; users: BenchUser[]; concurrency: number }
  | { type: 'soak-connect'; url: string; pairs: Pair[]; concurrency: number }
  | { type: 'soak-send'; spec: SoakSpec }
  | { type: 'close' };

export type ChildMessage =
  | { type: 'connected'; sockets: number }
  | { type: 'result'; result: RunResult }
  | { type: 'idle-connected'; result: IdleResult }
  | { type: 'soak-connected'; result: IdleResult; openFileLimit: number | null }
  | { type: 'soak-result'; result: SoakClientResult }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
