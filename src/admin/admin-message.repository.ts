import type { Transaction } from 'sequelize';
import { Sql } from '../db/sql';
import { MESSAGE_COLUMNS, type MessageRecord, toMessageRecord } from '../messages/message.record';

export type DeletedFilter = 'only' | 'include' | 'exclude';

export interface AdminMessageFilter {
  id?: number;
  deleted: DeletedFilter;
  conversationId?: number;
  senderId?: number;
  since?: Date;
  until?: Date;
  before?: number;
  limit: number;
}

/**
 * The admin module's access to messages, soft-deleted ones included. `find` is the only read in
 * Duet that returns deleted rows; user-facing code goes through MessageRepository, which never
 * does.
 */
export class AdminMessageRepository {
  constructor(private readonly sql: Sql) {}

  async find(filter: AdminMessageFilter): Promise<MessageRecord[]> {
    // Plain SQL through this instance's connection, not the global Message model: that class is
    // bound to whichever Sequelize registered it last, so with two Duets in one process (a host
    // with two chats, or tests) it would query the other one's, possibly closed, pool.
    const conditions: string[] = [];
    const bind: unknown[] = [];
    const where = (condition: (param: string) => string, value: unknown) => {
      bind.push(value);
      conditions.push(condition(`$${bind.length}`));
    };
    if (filter.id !== undefined) where((p) => `id = ${p}`, filter.id);
    if (filter.before !== undefined) where((p) => `id < ${p}`, filter.before);
    if (filter.deleted === 'only') conditions.push('deleted_at IS NOT NULL');
    if (filter.deleted === 'exclude') conditions.push('deleted_at IS NULL');
    if (filter.conversationId !== undefined) where((p) => `conversation_id = ${p}`, filter.conversationId);
    if (filter.senderId !== undefined) where((p) => `sender_id = ${p}`, filter.senderId);
    if (filter.since) where((p) => `created_at >= ${p}`, filter.since);
    if (filter.until) where((p) => `created_at < ${p}`, filter.until);
    bind.push(filter.limit);
    const rows = await this.sql.rows(
      `SELECT ${MESSAGE_COLUMNS} FROM messages ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT $${bind.length}`,
      bind,
    );
    return rows.map(toMessageRecord);
  }

  /** Makes a soft-deleted message visible again; undefined if it was not deleted. */
  async restore(id: number, transaction: Transaction): Promise<MessageRecord | undefined> {
    const row = await this.sql.row(
      `UPDATE messages SET deleted_at = NULL, deleted_by = NULL WHERE id = $1 AND deleted_at IS NOT NULL
       RETURNING ${MESSAGE_COLUMNS}`,
      [id],
      transaction,
    );
    return row && toMessageRecord(row);
  }

  /** Removes the row for good, its search vector with it; returns it as it was. */
  async purge(id: number, transaction: Transaction): Promise<MessageRecord | undefined> {
    const row = await this.sql.row(`DELETE FROM messages WHERE id = $1 RETURNING ${MESSAGE_COLUMNS}`, [id], transaction);
    return row && toMessageRecord(row);
  }
}
