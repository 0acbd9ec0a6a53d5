import { conversationColumns, type ConversationRecord, toConversationRecord } from '../conversations/conversation.record';
import type { Sql, Transaction } from '../db/sql';
import { AppError } from '../shared/errors';
import { messageColumns, type MessageRecord, toMessageRecord } from './message.record';
import type { NewMessage } from './message.repository';

const ATTACHMENT_TAKEN = 'messages_attachment_unique';
const ATTACHMENT_EXISTS = 'messages_attachment_id_fkey';

/**
 * The two statements of a batched send (see message-writer.ts). Each does in one round trip what
 * would otherwise take two, because a send's latency is mostly round trips.
 */
export class SendBatchRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Locks the conversations in id order and then draws `count` message ids. The ids' WHERE clause
   * reads the locked set, so PostgreSQL must finish taking every lock before it draws an id: ids
   * are drawn under the locks, which is what keeps them in commit order per conversation.
   */
  async lockAndDrawIds(
    conversationIds: readonly number[],
    count: number,
    transaction: Transaction,
  ): Promise<{ participants: Map<number, [number, number]>; ids: number[] }> {
    const row = await this.sql.row<{ locked: [number, number, number][]; ids: string[] }>(
      { name: 'duet_send_lock_and_draw', text: `WITH locked AS (
         SELECT id, participant_1_id, participant_2_id FROM conversations
          WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE
       )
       SELECT (SELECT coalesce(json_agg(json_build_array(id, participant_1_id, participant_2_id)), '[]') FROM locked) AS locked,
              (SELECT coalesce(array_agg(nextval('messages_id_seq')), '{}') FROM generate_series(1, $2)
                WHERE (SELECT count(*) FROM locked) >= 0) AS ids` },
      [conversationIds, count],
      transaction,
    );
    return {
      participants: new Map(row!.locked.map(([id, p1, p2]) => [Number(id), [Number(p1), Number(p2)]])),
      ids: row!.ids.map(Number),
    };
  }

  /**
   * Inserts the messages (with their pre-drawn ids) and, in the same statement, records per
   * conversation the newest one and the unread counts of their receivers. A message whose sender
   * already used its clientMessageId is skipped, not an error. created_at is clock_timestamp(),
   * row by row under the locks, so it grows with the id within a conversation.
   */
  async insertAndRecord(
    messages: (NewMessage & { id: number })[],
    transaction: Transaction,
  ): Promise<{ messages: MessageRecord[]; conversations: ConversationRecord[] }> {
    const column = <T>(pick: (m: NewMessage & { id: number }) => T) => messages.map(pick);
    const row = await this.sql
      .row<{ messages: Record<string, unknown>[]; conversations: Record<string, unknown>[] }>({
        name: 'duet_send_insert_and_record',
        text: `WITH inserted AS (
           INSERT INTO messages (id, conversation_id, sender_id, receiver_id, content, client_message_id,
                                 attachment_id, attachment, created_at, updated_at)
           SELECT id, conversation_id, sender_id, receiver_id, content, client_message_id, attachment_id, attachment,
                  clock_timestamp(), clock_timestamp()
             FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $5::text[], $6::varchar[], $7::bigint[], $8::jsonb[])
                  AS m(id, conversation_id, sender_id, receiver_id, content, client_message_id, attachment_id, attachment)
            ORDER BY id
           ON CONFLICT (sender_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
           RETURNING ${messageColumns()}
         ), newest AS (
           -- participant 1 is the smaller id: a message is to them when its receiver id is below its sender's
           SELECT conversation_id, max(id) AS last_id, max(created_at) AS last_at,
                  count(*) FILTER (WHERE receiver_id < sender_id)::int AS to_first,
                  count(*) FILTER (WHERE receiver_id > sender_id)::int AS to_second
             FROM inserted GROUP BY conversation_id
         ), recorded AS (
           UPDATE conversations c
              SET last_message_id = n.last_id, last_message_at = n.last_at, last_activity_at = n.last_at, updated_at = now(),
                  participant_1_unread = c.participant_1_unread + n.to_first,
                  participant_2_unread = c.participant_2_unread + n.to_second
             FROM newest n WHERE c.id = n.conversation_id
           RETURNING ${conversationColumns('c')}
         )
         SELECT (SELECT coalesce(json_agg(inserted), '[]') FROM inserted) AS messages,
                (SELECT coalesce(json_agg(recorded), '[]') FROM recorded) AS conversations`,
      }, [
          column((m) => m.id),
          column((m) => m.conversationId),
          column((m) => m.senderId),
          column((m) => m.receiverId),
          column((m) => m.content),
          column((m) => m.clientMessageId),
          column((m) => m.attachment?.id ?? null),
          column((m) => (m.attachment ? JSON.stringify(m.attachment) : null)),
        ],
        transaction,
      )
      .catch((err: unknown) => {
        const constraint = (err as { constraint?: string }).constraint;
        // Two sends racing with one upload: the unique index lets one through.
        if (constraint === ATTACHMENT_TAKEN) throw new AppError('CONFLICT', 'This attachment was already sent');
        // The unsent-upload sweep removed it between the check and the insert.
        if (constraint === ATTACHMENT_EXISTS) throw new AppError('NOT_FOUND', 'Attachment not found');
        throw err;
      });
    return { messages: row!.messages.map(toMessageRecord), conversations: row!.conversations.map(toConversationRecord) };
  }
}
