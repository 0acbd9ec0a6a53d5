import request from 'supertest';
import type { MessageJson } from '../../src/messages/message.presenter';
import { type ClientSocket, connectTo } from './sockets';
import { bearer } from './test-app';

/** An ack that does not come within this counts as lost: the send is retried. */
const ACK_TIMEOUT_MS = 3000;
/** Refusals that a later retry can overcome; any other refusal fails the test. */
const RETRYABLE = new Set(['UNAVAILABLE', 'RATE_LIMITED']);

interface SendAck {
  ok: boolean;
  message: MessageJson;
  error?: { code: string; retryAfterMs?: number };
}

/**
 * A client of one conversation that behaves as the contract asks of clients across node loss:
 * it reconnects by itself, catches up with after=<last id held> unless its session was recovered,
 * and retries an unacked send with the same clientMessageId once connected again.
 */
export class ResilientClient {
  /** The id of every new_message received, in order of arrival, repeats kept (a repeat is a bug). */
  readonly live: number[] = [];
  /** The ids that catching up with after= returned. */
  readonly caughtUp: number[] = [];
  /** What each send's ack returned, in order of sending. */
  readonly acked: MessageJson[] = [];
  reconnects = 0;
  /** Sends emitted again after their first attempt got no ack. */
  retries = 0;
  /** Resolves once the client is connected and caught up; pending while it is not. */
  private settled: Promise<void> = Promise.resolve();
  /** Sends emitted for the first time, and sends acked. */
  private readonly started = new Milestones();
  private readonly done = new Milestones();

  private constructor(
    readonly socket: ClientSocket,
    private readonly url: string,
    private readonly userId: number,
    private readonly conversationId: number,
  ) {
    socket.on('new_message', ({ message }: { message: MessageJson }) => {
      if (message.conversationId === conversationId) this.live.push(message.id);
    });
    socket.on('disconnect', () => {
      this.settled = new Promise((resolve, reject) => socket.once('connect', () => this.reconnected().then(resolve, reject)));
      // A failed catch-up surfaces where the client is next awaited, not as an unhandled rejection.
      this.settled.catch(() => undefined);
    });
  }

  /** Connects to `url` (a node or a balancer in front of nodes) with reconnection on. */
  static async connect(url: string, userId: number, conversationId: number): Promise<ResilientClient> {
    return new ResilientClient(await connectTo(url, userId, { reconnect: true }), url, userId, conversationId);
  }

  /** Every message id this client holds, from live events and catching up. */
  held(): Set<number> {
    return new Set([...this.live, ...this.caughtUp]);
  }

  /** Sends `count` messages to `receiverId` one after another, each until it is acked, `pauseMs` apart. */
  async sendAll(receiverId: number, count: number, pauseMs: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.acked.push(await this.sendUntilAcked({ receiverId, content: `message ${i} from ${this.userId}`, clientMessageId: `${this.userId}-${i}` }));
      this.done.reach(this.acked.length);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** Resolves once `count` sends have been acked. */
  untilAcked(count: number): Promise<void> {
    return this.done.reached(count);
  }

  /** Resolves right after the next send is first emitted, before anything can have answered it. */
  nextSendEmitted(): Promise<void> {
    return this.started.reached(this.started.count + 1);
  }

  /** Resolves when the client is connected and caught up (rejects if catching up failed). */
  ready(): Promise<void> {
    return this.settled;
  }

  private async sendUntilAcked(payload: { receiverId: number; content: string; clientMessageId: string }): Promise<MessageJson> {
    for (let attempt = 0; ; attempt++) {
      await this.settled;
      let ack: SendAck;
      try {
        const answer = this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('send_message', payload);
        if (attempt === 0) this.started.reach(this.acked.length + 1);
        else this.retries++;
        ack = await answer;
      } catch {
        // No ack (the connection dropped, or its node died): the same clientMessageId once back.
        continue;
      }
      if (ack.ok) return ack.message;
      if (!ack.error || !RETRYABLE.has(ack.error.code)) throw new Error(`send refused: ${JSON.stringify(ack.error)}`);
      await new Promise((resolve) => setTimeout(resolve, ack.error!.retryAfterMs ?? 100));
    }
  }

  private async reconnected(): Promise<void> {
    this.reconnects++;
    if (this.socket.recovered) return;
    let hasMore = true;
    while (hasMore) {
      const after = Math.max(0, ...this.held());
      const res = await request(this.url)
        .get(`/api/chat/conversations/${this.conversationId}/messages`)
        .query({ limit: 100, ...(after ? { after } : {}) })
        .set(bearer(this.userId));
      if (res.status !== 200) throw new Error(`catching up failed: ${res.status} ${JSON.stringify(res.body)}`);
      this.caughtUp.push(...(res.body.messages as MessageJson[]).map((m) => m.id));
      hasMore = res.body.hasMore;
    }
  }
}

/** A count that only grows, and promises that resolve when it reaches a value. */
class Milestones {
  count = 0;
  private readonly waiters: Array<{ at: number; resolve: () => void }> = [];

  reach(count: number): void {
    this.count = count;
    for (const waiter of this.waiters.filter((w) => w.at <= count)) waiter.resolve();
  }

  reached(at: number): Promise<void> {
    if (this.count >= at) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ at, resolve }));
  }
}
