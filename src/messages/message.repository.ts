import type { AttachmentSummary } from '../attachments/attachment.presenter';
import { prepared, Sql, type Transaction } from '../db/sql';
import { visibleToSql } from '../conversations/conversation-visibility';
import { unreadDeltaSql } from '../conversations/unread-counters';
import { MESSAGE_COLUMNS, messageColumns, type MessageRecord, toMessageRecord } from './message.record';

export interface NewMessage {
  conversationId: number;
  senderId: number;
  receiverId: number;
  content: string;
  clientMessageId: string | null;
  attachment: AttachmentSummary | null;
}

export interface HistoryPage {
  messages: MessageRecord[];
  hasMore: boolean;
}

export interface MarkResult {
  count: number;
  upToMessageId: number | null;
  at: Date;
}

const FIND_VISIBLE_BY_IDS = prepared(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL`);

/**
 * A history page for a participant, in one round trip: $1 conversation, $2 rows wanted, $3 the
 * reader, $4 the id to page from. No row at all: the reader does not see the conversation (a
 * stranger, or the other side of an empty one) or there is no such conversation. One row with no
 * message: the page is empty.
 */
const historyStatement = (bound: string, order: 'ASC' | 'DESC') =>
  prepared(`SELECT ${messageColumns('m')}
              FROM conversations c
              LEFT JOIN LATERAL (
                SELECT ${MESSAGE_COLUMNS} FROM messages
                 WHERE conversation_id = c.id AND deleted_at IS NULL ${bound}
                 ORDER BY id ${order} LIMIT $2
              ) AS m ON true
             WHERE c.id = $1 AND ${visibleToSql('$3', 'c')}
             ORDER BY m.id ${order}`);
const HISTORY_NEWEST = historyStatement('', 'DESC');
const HISTORY_BEFORE = historyStatement('AND id < $4', 'DESC');
const HISTORY_AFTER = historyStatement('AND id > $4', 'ASC');

/**
 * Messages visible to users. Every query here excludes soft-deleted rows; reading deleted
 * content is the admin module's job, through its own repository method.
 */
export class MessageRepository {
  constructor(private readonly sql: Sql) {}

  async findVisible(id: number, transaction?: Transaction): Promise<MessageRecord | undefined> {
    const row = await this.sql.row(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND deleted_at IS NULL`, [id], transaction);
    return row && toMessageRecord(row);
  }

  async findVisibleByIds(ids: readonly number[]): Promise<Map<number, MessageRecord>> {
    if (!ids.length) return new Map();
    const rows = await this.sql.rows(FIND_VISIBLE_BY_IDS, [ids]);
    return new Map(rows.map((row) => [Number(row.id), toMessageRecord(row)]));
  }

  /**
   * The message a sender stored under a clientMessageId, deleted or not: retries must find it
   * (the unique index covers deleted rows too). The caller decides what a deleted match means.
   */
  async findByClientMessageId(senderId: number, clientMessageId: string, transaction?: Transaction): Promise<MessageRecord | undefined> {
    const row = await this.sql.row(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_message_id = $2`,
      [senderId, clientMessageId],
      transaction,
    );
    return row && toMessageRecord(row);
  }

  /**
   * A page of history, oldest first, if `readerId` takes part in the conversation (undefined if
   * not). `before` pages back; `after` catches up; neither: the newest.
   */
  async history(
    readerId: number,
    conversationId: number,
    limit: number,
    cursor: { before?: number; after?: number },
  ): Promise<HistoryPage | undefined> {
    const newestFirst = cursor.after === undefined;
    const bind = [conversationId, limit + 1, readerId];
    const rows =
      cursor.before !== undefined
        ? await this.sql.rows(HISTORY_BEFORE, [...bind, cursor.before])
        : cursor.after !== undefined
          ? await this.sql.rows(HISTORY_AFTER, [...bind, cursor.after])
          : await this.sql.rows(HISTORY_NEWEST, bind);
    if (!rows.length) return undefined;
    if (rows[0]!.id === null) return { messages: [], hasMore: false };
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit).map(toMessageRecord);
    if (newestFirst) messages.reverse();
    return { messages, hasMore };
  }

  /**
   * Marks what `receiverId` got in the conversation (up to an id) as read, and as delivered where
   * it was not yet, and takes the same number off their unread counter: one statement, so the
   * counter and the rows never disagree.
   */
  async markRead(
    conversationId: number,
    receiverId: number,
    upToMessageId: number | undefined,
    transaction?: Transaction,
  ): Promise<MarkResult> {
    const row = await this.sql.row<{ count: number; up_to: string | null; at: Date }>(
      `WITH marked AS (
         UPDATE messages
            SET is_read = true, read_at = now(), delivered_at = COALESCE(delivered_at, now()), updated_at = now()
          WHERE conversation_id = $1 AND receiver_id = $2 AND NOT is_read AND deleted_at IS NULL
            AND ($3::bigint IS NULL OR id <= $3::bigint)
          RETURNING id
       ), total AS (SELECT count(*)::int AS count, max(id) AS up_to FROM marked),
       counter AS (
         UPDATE conversations
            SET ${unreadDeltaSql('$2', '-total.count')}
           FROM total
          WHERE id = $1 AND total.count > 0
       )
       SELECT total.count, total.up_to, now()::timestamptz(3) AS at FROM total`,
      [conversationId, receiverId, upToMessageId ?? null],
      transaction,
    );
    return { count: Number(row!.count), upToMessageId: row!.up_to === null ? null : Number(row!.up_to), at: new Date(row!.at) };
  }

  /**
   * Records that the receiver's device has the messages up to an id. Only rows not yet delivered
   * change, so a repeated confirmation counts 0.
   */
  async markDelivered(conversationId: number, receiverId: number, upToMessageId: number): Promise<MarkResult> {
    const row = await this.sql.row<{ count: number; up_to: string | null; at: Date }>(
      `WITH marked AS (
         UPDATE messages SET delivered_at = now(), updated_at = now()
          -- Read implies delivered (markRead sets both), so NOT is_read loses nothing and lets the
          -- messages_unread index find the rows (migration 7).
          WHERE conversation_id = $1 AND receiver_id = $2 AND NOT is_read AND delivered_at IS NULL AND deleted_at IS NULL
            AND id <= $3
          RETURNING id
       )
       SELECT count(*)::int AS count, max(id) AS up_to, now()::timestamptz(3) AS at FROM marked`,
      [conversationId, receiverId, upToMessageId],
    );
    return { count: Number(row!.count), upToMessageId: row!.up_to === null ? null : Number(row!.up_to), at: new Date(row!.at) };
  }

  /** Soft-deletes a visible message; returns the row as it was, or undefined if it was already gone. */
  async softDelete(id: number, deletedBy: number, transaction: Transaction): Promise<MessageRecord | undefined> {
    const row = await this.sql.row(
      `UPDATE messages SET deleted_at = now(), deleted_by = $2
        WHERE id = $1 AND deleted_at IS NULL
        RETURNING ${MESSAGE_COLUMNS}`,
      [id, deletedBy],
      transaction,
    );
    return row && toMessageRecord(row);
  }

  /**
   * Full-text search over the user's conversations, newest first. It walks each of the user's
   * conversations backwards through the history index, testing the text, and stops at `limit`
   * matches per conversation: the cost follows the user's own history, not how often the word
   * occurs across everyone's messages, as a global index scan filtered by user would
   * (docs/performance.md, "Reads").
   */
  async search(userId: number, query: string, limit: number, conversationId?: number): Promise<MessageRecord[]> {
    const scope =
      conversationId === undefined
        ? `SELECT id FROM conversations WHERE participant_1_id = $1
           UNION ALL SELECT id FROM conversations WHERE participant_2_id = $1`
        : 'SELECT $4::int AS id';
    const bind: unknown[] = [userId, query, limit];
    if (conversationId !== undefined) bind.push(conversationId);
    const rows = await this.sql.rows(
      `WITH q AS (SELECT websearch_to_tsquery('simple', $2) AS query)
       SELECT ${messageColumns('m')}
         FROM (${scope}) AS c
         CROSS JOIN LATERAL (
           SELECT * FROM messages
            WHERE conversation_id = c.id AND deleted_at IS NULL
              AND search_vector @@ (SELECT query FROM q)
              AND ($1 IN (sender_id, receiver_id))
            ORDER BY id DESC LIMIT $3
         ) AS m
        ORDER BY m.id DESC LIMIT $3`,
      bind,
    );
    return rows.map(toMessageRecord);
  }
}
