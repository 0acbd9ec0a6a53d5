import { conversationColumns, type ConversationRecord, toConversationRecord } from '../conversations/conversation.record';
import { isToFirstSql, unreadCountersSql } from '../conversations/unread-counters';
import { prepared, type Sql } from '../db/sql';
import { AppError } from '../shared/errors';
import { messageColumns, type MessageRecord, toMessageRecord } from './message.record';
import type { NewMessage } from './message.repository';

const ATTACHMENT_TAKEN = 'messages_attachment_unique';
const ATTACHMENT_EXISTS = 'messages_attachment_id_fkey';

export interface WrittenBatch {
  /** The id drawn for each message of the batch, by position; undefined: its conversation was not writable. */
  ids: (number | undefined)[];
  /** The rows inserted: a drawn id with no row here was a duplicate clientMessageId. */
  messages: MessageRecord[];
  /** Each written conversation after the write. */
  conversations: ConversationRecord[];
}

/**
 * With webhooks on, the same statement also queues each inserted message's message.created in the
 * outbox (one INSERT for the batch, in the same implicit transaction): snapshots of the message and
 * of its conversation after the write, and whether the receiver had a socket connected, which the
 * caller looked up for the batch and passes in each row. The API JSON is made at delivery
 * (src/webhooks/webhook-renderer.ts). A duplicate clientMessageId inserts nothing and queues nothing.
 */
const OUTBOX = `, outbox AS (
     INSERT INTO webhook_deliveries (type, data, message_id, created_at)
     SELECT 'message.created',
            jsonb_build_object('message', to_jsonb(i), 'conversation', to_jsonb(r), 'receiverOnline', coalesce(d.receiver_online, false)),
            i.id, i.created_at
       FROM inserted i JOIN drawn d ON d.id = i.id JOIN recorded r ON r.id = i.conversation_id
      ORDER BY i.id
   )`;

/**
 * A whole batched send (see message-writer.ts) is one statement, run on its own: PostgreSQL wraps
 * it in an implicit transaction that commits before the result reaches us, so one round trip
 * writes and commits a batch.
 *
 * The batch arrives as one JSON parameter, not as arrays: PostgreSQL estimates an array constant
 * by its length, so every custom plan looked cheaper than the generic one and the statement was
 * planned afresh on every call (about a millisecond of CPU, more than the write itself). Its
 * estimates from JSON do not depend on the values, so after five executions the prepared statement
 * settles on its generic plan (tests/integration/message-writer.test.ts checks this).
 *
 * The statement, in order:
 * 1. `locked` locks the batch's conversations in id order (the same order as every other writer,
 *    so batches cannot deadlock).
 * 2. `drawn` draws message ids. Its WHERE clause first counts `locked` (an InitPlan, run once before
 *    the first row), so every lock is held before any id is drawn: within a conversation ids are
 *    drawn and committed in the same order, which keeps `after=` catch-up gap-free. A message whose
 *    conversation is gone or belongs to another pair draws no id and is not written.
 * 3. `inserted` skips a message whose sender already used its clientMessageId (not an error).
 * 4. `recorded` sets each conversation's newest message, adds to its receivers' unread counts and
 *    marks it as having held a message (visible to both, who are presence partners from then on).
 */
const writeBatchText = (withOutbox: boolean) => `WITH batch AS (
     SELECT * FROM json_to_recordset($1::json)
            AS b(position int, conversation_id int, sender_id int, receiver_id int, content text, client_message_id varchar,
                 attachment_id bigint, attachment jsonb${withOutbox ? ', receiver_online boolean' : ''})
   ), locked AS (
     -- One primary-key lookup per conversation, in id order. (A plain join let the generic plan pick
     -- a sequential scan on a small table, whose cost then grew with every dead row version.)
     SELECT c.id, c.participant_1_id, c.participant_2_id
       FROM (SELECT DISTINCT conversation_id FROM batch ORDER BY conversation_id) AS wanted
            CROSS JOIN LATERAL (
              SELECT id, participant_1_id, participant_2_id FROM conversations
               WHERE id = wanted.conversation_id FOR UPDATE
            ) AS c
   ), drawn AS (
     SELECT nextval('messages_id_seq') AS id, b.*
       FROM batch b
      WHERE (SELECT count(*) FROM locked) >= 0
        AND EXISTS (SELECT 1 FROM locked l
                     WHERE l.id = b.conversation_id
                       AND l.participant_1_id = least(b.sender_id, b.receiver_id)
                       AND l.participant_2_id = greatest(b.sender_id, b.receiver_id))
   ), inserted AS (
     INSERT INTO messages (id, conversation_id, sender_id, receiver_id, content, client_message_id,
                           attachment_id, attachment, created_at, updated_at)
     SELECT id, conversation_id, sender_id, receiver_id, content, client_message_id, attachment_id, attachment,
            clock_timestamp(), clock_timestamp()
       FROM drawn ORDER BY id
     ON CONFLICT (sender_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
     RETURNING ${messageColumns()}
   ), newest AS (
     SELECT conversation_id, max(id) AS last_id, max(created_at) AS last_at,
            count(*) FILTER (WHERE ${isToFirstSql('sender_id', 'receiver_id')})::int AS to_first,
            count(*) FILTER (WHERE NOT ${isToFirstSql('sender_id', 'receiver_id')})::int AS to_second
       FROM inserted GROUP BY conversation_id
   ), recorded AS (
     UPDATE conversations c
        SET last_message_id = n.last_id, last_message_at = n.last_at, last_activity_at = n.last_at, updated_at = now(),
            held_message = true,
            ${unreadCountersSql('n.to_first', 'n.to_second')}
       FROM newest n WHERE c.id = n.conversation_id
     RETURNING ${conversationColumns('c')}
   )${withOutbox ? OUTBOX : ''}
   SELECT (SELECT coalesce(json_agg(json_build_array(position, id)), '[]') FROM drawn) AS drawn,
          (SELECT coalesce(json_agg(inserted), '[]') FROM inserted) AS messages,
          (SELECT coalesce(json_agg(recorded), '[]') FROM recorded) AS conversations`;

export const WRITE_BATCH = prepared(writeBatchText(false));
/** The statement when webhooks are on; WRITE_BATCH, the one without them, is left exactly as it was. */
export const WRITE_BATCH_WITH_OUTBOX = prepared(writeBatchText(true));

/** What the send batch needs from the webhooks when they are on. */
export interface SendBatchWebhooks {
  /** The receivers among these with a socket connected anywhere now (one lookup per batch). */
  connected(userIds: readonly number[]): Promise<Set<number>>;
  /** A batch with events committed. */
  committed(): void;
}

export class SendBatchRepository {
  constructor(
    private readonly sql: Sql,
    private readonly webhooks?: SendBatchWebhooks,
  ) {}

  /** Writes and commits `batch` in one statement; resolves only after the commit, or fails at `deadline`. */
  async write(batch: readonly NewMessage[], deadline?: number): Promise<WrittenBatch> {
    const online = this.webhooks && (await this.webhooks.connected([...new Set(batch.map((m) => m.receiverId))]));
    const rows = batch.map((m, i) => ({
      position: i + 1,
      conversation_id: m.conversationId,
      sender_id: m.senderId,
      receiver_id: m.receiverId,
      content: m.content,
      client_message_id: m.clientMessageId,
      attachment_id: m.attachment?.id ?? null,
      attachment: m.attachment,
      ...(online && { receiver_online: online.has(m.receiverId) }),
    }));
    const row = await this.sql
      .row<{ drawn: [number, number | string][]; messages: Record<string, unknown>[]; conversations: Record<string, unknown>[] }>(
        online ? WRITE_BATCH_WITH_OUTBOX : WRITE_BATCH,
        [JSON.stringify(rows)],
        undefined,
        deadline,
      )
      .catch((err: unknown) => {
        const constraint = (err as { constraint?: string }).constraint;
        // Two sends racing with one upload: the unique index lets one through.
        if (constraint === ATTACHMENT_TAKEN) throw new AppError('CONFLICT', 'This attachment was already sent');
        // The unsent-upload sweep removed it between the check and the insert.
        if (constraint === ATTACHMENT_EXISTS) throw new AppError('NOT_FOUND', 'Attachment not found');
        throw err;
      });
    if (online && row!.messages.length) this.webhooks!.committed();
    const ids: (number | undefined)[] = batch.map(() => undefined);
    for (const [position, id] of row!.drawn) ids[position - 1] = Number(id);
    return {
      ids,
      messages: row!.messages.map(toMessageRecord),
      conversations: row!.conversations.map(toConversationRecord),
    };
  }
}
