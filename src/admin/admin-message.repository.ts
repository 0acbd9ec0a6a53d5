import { Op, type Transaction, type WhereOptions } from 'sequelize';
import { Sql } from '../db/sql';
import { Message } from '../messages/message.model';
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

function fromModel(m: Message): MessageRecord {
  return {
    id: Number(m.id),
    conversationId: m.conversationId,
    senderId: m.senderId,
    receiverId: m.receiverId,
    content: m.content,
    clientMessageId: m.clientMessageId,
    isRead: m.isRead,
    readAt: m.readAt,
    deliveredAt: m.deliveredAt,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    deletedAt: m.deletedAt,
    deletedBy: m.deletedBy,
    attachmentId: m.attachmentId === null ? null : Number(m.attachmentId),
    attachment: m.attachment,
  };
}

/**
 * The admin module's access to messages, soft-deleted ones included. `find` is the only read in
 * Duet that passes `paranoid: false`; user-facing code goes through MessageRepository, which
 * never returns deleted rows.
 */
export class AdminMessageRepository {
  constructor(private readonly sql: Sql) {}

  async find(filter: AdminMessageFilter): Promise<MessageRecord[]> {
    const where: WhereOptions = {};
    const id: Record<symbol, number> = {};
    if (filter.id !== undefined) id[Op.eq] = filter.id;
    if (filter.before !== undefined) id[Op.lt] = filter.before;
    if (Object.getOwnPropertySymbols(id).length) Object.assign(where, { id });
    if (filter.deleted === 'only') Object.assign(where, { deletedAt: { [Op.ne]: null } });
    if (filter.deleted === 'exclude') Object.assign(where, { deletedAt: null });
    if (filter.conversationId !== undefined) Object.assign(where, { conversationId: filter.conversationId });
    if (filter.senderId !== undefined) Object.assign(where, { senderId: filter.senderId });
    const createdAt: Record<symbol, Date> = {};
    if (filter.since) createdAt[Op.gte] = filter.since;
    if (filter.until) createdAt[Op.lt] = filter.until;
    if (Object.getOwnPropertySymbols(createdAt).length) Object.assign(where, { createdAt });
    const rows = await Message.findAll({ where, paranoid: false, order: [['id', 'DESC']], limit: filter.limit });
    return rows.map(fromModel);
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
