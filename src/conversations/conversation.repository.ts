import { prepared, Sql, type Transaction } from '../db/sql';
import { type MessageRecord, prefixedMessageColumns, toPrefixedMessageRecord } from '../messages/message.record';
import {
  CONVERSATION_COLUMNS,
  conversationColumns,
  type ConversationRecord,
  orderedPair,
  toConversationRecord,
} from './conversation.record';
import { visibleToSideSql } from './conversation-visibility';
import { unreadDeltaSql } from './unread-counters';

export interface ActivityCursor {
  lastActivityAt: Date;
  id: number;
}

export interface UnreadRow {
  conversationId: number;
  unreadCount: number;
}


const FIND_BY_ID = prepared(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`);

/**
 * A page of a user's conversations with their last messages: each side of the pair, merged, then
 * the page's last messages by primary key. With and without a keyset.
 */
const listStatement = (keyset: string) => {
  const side = (n: 1 | 2) =>
    `(SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE participant_${n}_id = $1 AND ${visibleToSideSql(n)} ${keyset}
       ORDER BY last_activity_at DESC, id DESC LIMIT $2)`;
  return prepared(
    `SELECT ${conversationColumns('c')}, ${prefixedMessageColumns('m', LAST_MESSAGE)}
       FROM (${side(1)} UNION ALL ${side(2)}
             ORDER BY last_activity_at DESC, id DESC LIMIT $2) AS c
       LEFT JOIN messages m ON m.id = c.last_message_id AND m.deleted_at IS NULL
      ORDER BY c.last_activity_at DESC, c.id DESC`,
  );
};
const LAST_MESSAGE = 'last_message_';
const LIST_FIRST_PAGE = listStatement('');
const LIST_AFTER = listStatement('AND (last_activity_at, id) < ($3, $4)');

const UNREAD_FOR_USER = prepared(
  `SELECT id, participant_1_unread AS unread FROM conversations WHERE participant_1_id = $1 AND participant_1_unread > 0
   UNION ALL
   SELECT id, participant_2_unread AS unread FROM conversations WHERE participant_2_id = $1 AND participant_2_unread > 0
   ORDER BY id`,
);

export interface ConversationWithLastMessage {
  conversation: ConversationRecord;
  /** Absent when the conversation has none (or it was deleted since). */
  lastMessage?: MessageRecord;
}

export class ConversationRepository {
  constructor(private readonly sql: Sql) {}

  async findById(id: number, transaction?: Transaction): Promise<ConversationRecord | undefined> {
    const row = await this.sql.row(FIND_BY_ID, [id], transaction);
    return row && toConversationRecord(row);
  }

  /**
   * Creates the pair's conversation, opened by its creator, unless it exists; the unique index
   * settles races.
   */
  async findOrCreate(
    creatorId: number,
    otherId: number,
    transaction?: Transaction,
  ): Promise<{ conversation: ConversationRecord; created: boolean }> {
    const [p1, p2] = orderedPair(creatorId, otherId);
    const inserted = await this.sql.row(
      `INSERT INTO conversations (participant_1_id, participant_2_id, participant_1_opened, participant_2_opened)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (participant_1_id, participant_2_id) DO NOTHING
       RETURNING ${CONVERSATION_COLUMNS}`,
      [p1, p2, p1 === creatorId, p2 === creatorId],
      transaction,
    );
    if (inserted) return { conversation: toConversationRecord(inserted), created: true };
    const existing = await this.sql.row(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE participant_1_id = $1 AND participant_2_id = $2`,
      [p1, p2],
      transaction,
    );
    return { conversation: toConversationRecord(existing!), created: false };
  }

  /** Records that the participant opened the conversation, which lists it for them while it is empty. */
  async markOpened(conversationId: number, userId: number): Promise<ConversationRecord | undefined> {
    const row = await this.sql.row(
      `UPDATE conversations
          SET participant_1_opened = participant_1_opened OR participant_1_id = $2,
              participant_2_opened = participant_2_opened OR participant_2_id = $2
        WHERE id = $1
        RETURNING ${CONVERSATION_COLUMNS}`,
      [conversationId, userId],
    );
    return row && toConversationRecord(row);
  }

  /** The pair's conversation id, if they have one. */
  async idForPair(a: number, b: number): Promise<number | undefined> {
    const [p1, p2] = orderedPair(a, b);
    const row = await this.sql.row<{ id: number }>(
      'SELECT id FROM conversations WHERE participant_1_id = $1 AND participant_2_id = $2',
      [p1, p2],
    );
    return row && Number(row.id);
  }

  async lockById(id: number, transaction: Transaction): Promise<ConversationRecord | undefined> {
    const row = await this.sql.row(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 FOR UPDATE`, [id], transaction);
    return row && toConversationRecord(row);
  }

  /**
   * Points last_message_* at the newest message that is not deleted (or clears it, falling back to
   * created_at for ordering) and applies an unread change for one user, in one statement. Used
   * after a message leaves (delete, purge) or comes back (restore), so the conversation has held
   * one: held_message is set here too, for rows whose messages a previous-version node wrote.
   */
  async refreshLastMessage(
    conversationId: number,
    unread: { userId: number; delta: number },
    transaction: Transaction,
  ): Promise<ConversationRecord> {
    const row = await this.sql.row(
      `UPDATE conversations c
          SET last_message_id = newest.id, last_message_at = newest.created_at,
              last_activity_at = COALESCE(newest.created_at, c.created_at), updated_at = now(), held_message = true,
              ${unreadDeltaSql('$2', '$3')}
         FROM (SELECT NULL) AS one
         LEFT JOIN LATERAL (
           SELECT id, created_at FROM messages
            WHERE conversation_id = $1 AND deleted_at IS NULL
            ORDER BY id DESC LIMIT 1
         ) AS newest ON true
        WHERE c.id = $1
        RETURNING ${conversationColumns('c')}`,
      [conversationId, unread.userId, unread.delta],
      transaction,
    );
    return toConversationRecord(row!);
  }

  /**
   * A page of the conversations the user sees, newest activity first. Each side of the pair has its
   * own (participant, last_activity_at, id) index, so this is two short index scans merged, whatever
   * the number of conversations; hidden ones (empty, opened by the other only) are filtered out as
   * the scan reads their rows, which it does anyway for the select list.
   */
  async listForUser(userId: number, limit: number, after?: ActivityCursor): Promise<ConversationWithLastMessage[]> {
    const rows = after
      ? await this.sql.rows(LIST_AFTER, [userId, limit, after.lastActivityAt, after.id])
      : await this.sql.rows(LIST_FIRST_PAGE, [userId, limit]);
    return rows.map((row) => ({ conversation: toConversationRecord(row), lastMessage: toPrefixedMessageRecord(row, LAST_MESSAGE) }));
  }

  /** Conversations with unread messages for the user, read from the counters (no message scan). */
  async unreadForUser(userId: number): Promise<UnreadRow[]> {
    const rows = await this.sql.rows<{ id: number; unread: number }>(UNREAD_FOR_USER, [userId]);
    return rows.map((r) => ({ conversationId: Number(r.id), unreadCount: Number(r.unread) }));
  }
}
