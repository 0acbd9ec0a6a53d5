import { Sql, type Transaction } from '../db/sql';
import {
  CONVERSATION_COLUMNS,
  conversationColumns,
  type ConversationRecord,
  orderedPair,
  toConversationRecord,
} from './conversation.record';

export interface ActivityCursor {
  lastActivityAt: Date;
  id: number;
}

export interface UnreadRow {
  conversationId: number;
  unreadCount: number;
}

/**
 * Adds `delta` to `userId`'s unread counter, whichever side of the pair they are on.
 * $user and $delta are the positions of the two bind parameters.
 */
export function unreadDeltaSql(user: string, delta: string): string {
  return `participant_1_unread = participant_1_unread + CASE WHEN participant_1_id = ${user} THEN ${delta} ELSE 0 END,
          participant_2_unread = participant_2_unread + CASE WHEN participant_2_id = ${user} THEN ${delta} ELSE 0 END`;
}

export class ConversationRepository {
  constructor(private readonly sql: Sql) {}

  async findById(id: number, transaction?: Transaction): Promise<ConversationRecord | undefined> {
    const row = await this.sql.row(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`, [id], transaction);
    return row && toConversationRecord(row);
  }

  /** Creates the pair's conversation unless it exists; the unique index settles races. */
  async findOrCreate(a: number, b: number, transaction?: Transaction): Promise<{ conversation: ConversationRecord; created: boolean }> {
    const [p1, p2] = orderedPair(a, b);
    const inserted = await this.sql.row(
      `INSERT INTO conversations (participant_1_id, participant_2_id) VALUES ($1, $2)
       ON CONFLICT (participant_1_id, participant_2_id) DO NOTHING
       RETURNING ${CONVERSATION_COLUMNS}`,
      [p1, p2],
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
   * after a message leaves (delete, purge) or comes back (restore).
   */
  async refreshLastMessage(
    conversationId: number,
    unread: { userId: number; delta: number },
    transaction: Transaction,
  ): Promise<ConversationRecord> {
    const row = await this.sql.row(
      `UPDATE conversations c
          SET last_message_id = newest.id, last_message_at = newest.created_at,
              last_activity_at = COALESCE(newest.created_at, c.created_at), updated_at = now(),
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
   * A page of the user's conversations, newest activity first. Each side of the pair has its own
   * (participant, last_activity_at, id) index, so this is two short index scans merged, whatever
   * the number of conversations.
   */
  async listForUser(userId: number, limit: number, after?: ActivityCursor): Promise<ConversationRecord[]> {
    const bind: unknown[] = [userId, limit];
    let keyset = '';
    if (after) {
      bind.push(after.lastActivityAt, after.id);
      keyset = 'AND (last_activity_at, id) < ($3, $4)';
    }
    const side = (column: string) =>
      `(SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE ${column} = $1 ${keyset}
         ORDER BY last_activity_at DESC, id DESC LIMIT $2)`;
    const rows = await this.sql.rows(
      `${side('participant_1_id')} UNION ALL ${side('participant_2_id')}
       ORDER BY last_activity_at DESC, id DESC LIMIT $2`,
      bind,
    );
    return rows.map(toConversationRecord);
  }

  /** Conversations with unread messages for the user, read from the counters (no message scan). */
  async unreadForUser(userId: number): Promise<UnreadRow[]> {
    const rows = await this.sql.rows<{ id: number; unread: number }>(
      `SELECT id, participant_1_unread AS unread FROM conversations WHERE participant_1_id = $1 AND participant_1_unread > 0
       UNION ALL
       SELECT id, participant_2_unread AS unread FROM conversations WHERE participant_2_id = $1 AND participant_2_unread > 0
       ORDER BY id`,
      [userId],
    );
    return rows.map((r) => ({ conversationId: Number(r.id), unreadCount: Number(r.unread) }));
  }
}
