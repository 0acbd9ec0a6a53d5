import { Conditions, Sql, type Transaction } from '../db/sql';
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
  /** Soft-deleted before this time (retention). */
  deletedBefore?: Date;
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
    const where = new Conditions();
    if (filter.id !== undefined) where.add((p) => `id = ${p}`, filter.id);
    if (filter.before !== undefined) where.add((p) => `id < ${p}`, filter.before);
    if (filter.deleted === 'only') where.raw('deleted_at IS NOT NULL');
    if (filter.deleted === 'exclude') where.raw('deleted_at IS NULL');
    if (filter.deletedBefore) where.add((p) => `deleted_at < ${p}`, filter.deletedBefore);
    if (filter.conversationId !== undefined) where.add((p) => `conversation_id = ${p}`, filter.conversationId);
    if (filter.senderId !== undefined) where.add((p) => `sender_id = ${p}`, filter.senderId);
    if (filter.since) where.add((p) => `created_at >= ${p}`, filter.since);
    if (filter.until) where.add((p) => `created_at < ${p}`, filter.until);
    const limit = where.param(filter.limit);
    const rows = await this.sql.rows(`SELECT ${MESSAGE_COLUMNS} FROM messages ${where} ORDER BY id DESC LIMIT ${limit}`, where.bind);
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
