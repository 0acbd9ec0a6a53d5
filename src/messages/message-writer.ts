import type { ConversationRecord } from '../conversations/conversation.record';
import { DEFAULT_DATABASE_TIMEOUT_MS } from '../db/sql';
import { AppError, toAppError } from '../shared/errors';
import type { MessageRecord } from './message.record';
import type { NewMessage } from './message.repository';
import type { SendBatchRepository } from './send-batch.repository';

/** A written message, with its conversation after the write and that conversation's newest message. */
export interface Written {
  kind: 'written';
  message: MessageRecord;
  conversation: ConversationRecord;
  lastMessage: MessageRecord;
}

/**
 * What a write can come to: written; a duplicate (the sender's clientMessageId is already stored);
 * or no conversation (the id given no longer exists or is not this pair's, e.g. a cached id after
 * the table was emptied).
 */
export type WriteResult = Written | { kind: 'duplicate' } | { kind: 'no-conversation' };

interface Pending {
  message: NewMessage;
  /** When its caller must have an answer (Date.now() time). */
  deadline: number;
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

export interface MessageWriterOptions {
  /** Most messages in one transaction. */
  maxBatch: number;
  /** Most batch transactions at once (each holds a pool connection). */
  maxInFlight: number;
  /** DATABASE_TIMEOUT_MS: a caller is answered within this, queue wait included. */
  timeoutMs: number;
}

/**
 * One batch at a time: on two cores shared with PostgreSQL, sends that wait for the batch in
 * flight make the next batch bigger, and a bigger batch costs much less per message than several
 * small ones at once (docs/performance.md, "Send path"). A larger database host may want more.
 */
export const DEFAULT_WRITER_OPTIONS: MessageWriterOptions = Object.freeze({
  maxBatch: 200,
  maxInFlight: 1,
  timeoutMs: DEFAULT_DATABASE_TIMEOUT_MS,
});

/**
 * Writes messages in batches that group whatever arrived while the previous ones were committing
 * (no timer: under light load a batch is one message and waits for nothing). A batch is one
 * statement and one round trip (send-batch.repository.ts); each caller's promise settles only
 * after its batch has committed.
 *
 * Ordering: a batch locks its conversations (in id order), then draws the message ids, inserts
 * and commits, all under those locks. Within a conversation ids are therefore drawn and made
 * visible in increasing order, so a client catching up with after=<id> never skips a message.
 *
 * A message that dedupes (clientMessageId already used) resolves to { kind: 'duplicate' } without
 * failing its batch. If a batch fails as a whole, its messages are retried one by one, so one bad
 * message fails alone; but if it failed because the database is away, every caller of the batch
 * gets UNAVAILABLE at once (one by one, each would wait as long again).
 *
 * Every caller is answered within `timeoutMs` of its call: a batch must answer by the deadline of
 * its oldest message, and a message whose deadline passed while it queued (behind a batch that
 * hung) fails without being sent. UNAVAILABLE means "perhaps not stored": clients retry with the
 * same clientMessageId, which stores it once.
 */
export class MessageWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly batches: SendBatchRepository,
    private readonly options: MessageWriterOptions = DEFAULT_WRITER_OPTIONS,
  ) {}

  /** Resolves once committed. */
  write(message: NewMessage): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, deadline: Date.now() + this.options.timeoutMs, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      if (!batch.length) continue;
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  /** The next batch, less the messages whose callers' time ran out while they queued. */
  private takeBatch(): Pending[] {
    const now = Date.now();
    const batch: Pending[] = [];
    for (const pending of this.queue.splice(0, this.options.maxBatch)) {
      if (pending.deadline > now) batch.push(pending);
      else pending.reject(new AppError('UNAVAILABLE', 'The database did not answer in time; try again'));
    }
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    let deadline = batch[0]!.deadline;
    for (const pending of batch) deadline = Math.min(deadline, pending.deadline);
    try {
      const results = await this.writeBatch(batch.map((p) => p.message), deadline);
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1 || toAppError(err).code === 'UNAVAILABLE') {
        for (const pending of batch) pending.reject(err);
        return;
      }
      for (const pending of batch) await this.run([pending]);
    }
  }

  private async writeBatch(batch: NewMessage[], deadline: number): Promise<WriteResult[]> {
    const written = await this.batches.write(batch, deadline);
    const byId = new Map(written.messages.map((m) => [m.id, m]));
    const conversationById = new Map(written.conversations.map((c) => [c.id, c]));
    return written.ids.map((id): WriteResult => {
      if (id === undefined) return { kind: 'no-conversation' };
      const message = byId.get(id);
      if (!message) return { kind: 'duplicate' };
      const conversation = conversationById.get(message.conversationId)!;
      return { kind: 'written', message, conversation, lastMessage: byId.get(conversation.lastMessageId!) ?? message };
    });
  }
}
