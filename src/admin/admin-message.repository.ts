import { Op, type WhereOptions } from 'sequelize';
import type { ChatModels } from '../db/chat-models';
import type { ModelTransaction, Sql } from '../db/sql';
import type { Message } from '../messages/message.model';
import { fromMessageModel, type MessageRecord } from '../messages/message.record';

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
 * The admin module's access to messages, soft-deleted ones included, through the Message model
 * (a cold path: docs/data-model.md). `find` is the only read in Duet that returns deleted rows;
 * user-facing code goes through MessageRepository, which never does.
 */
export class AdminMessageRepository {
  constructor(
    private readonly sql: Sql,
    private readonly models: Pick<ChatModels, 'Message'>,
  ) {}

  /** Newest first. In a transaction of its own only so that the database timeout bounds it. */
  find(filter: AdminMessageFilter): Promise<MessageRecord[]> {
    return this.sql.modelTransaction(async ({ orm }) => {
      const found = await this.models.Message.findAll({
        where: whereOf(filter),
        paranoid: filter.deleted === 'exclude',
        order: [['id', 'DESC']],
        limit: filter.limit,
        transaction: orm,
      });
      return found.map(fromMessageModel);
    });
  }

  /** Makes a soft-deleted message visible again; undefined if it was not deleted. */
  async restore(id: number, { orm }: ModelTransaction): Promise<MessageRecord | undefined> {
    const message = await this.findLocked(id, orm);
    if (!message?.deletedAt) return undefined;
    message.set('deletedBy', null);
    // silent: a restored message is the one that was sent, updatedAt included (as a soft delete leaves it).
    await message.restore({ transaction: orm, silent: true } as Parameters<Message['restore']>[0]);
    return fromMessageModel(message);
  }

  /** Removes the row for good, its search vector with it; returns it as it was. */
  async purge(id: number, { orm }: ModelTransaction): Promise<MessageRecord | undefined> {
    const message = await this.findLocked(id, orm);
    if (!message) return undefined;
    const before = fromMessageModel(message);
    await message.destroy({ force: true, transaction: orm });
    return before;
  }

  private findLocked(id: number, orm: ModelTransaction['orm']): Promise<Message | null> {
    return this.models.Message.findByPk(id, { paranoid: false, lock: orm.LOCK.UPDATE, transaction: orm });
  }
}

function whereOf(filter: AdminMessageFilter): WhereOptions {
  const id = { ...(filter.id !== undefined && { [Op.eq]: filter.id }), ...(filter.before !== undefined && { [Op.lt]: filter.before }) };
  const createdAt = { ...(filter.since && { [Op.gte]: filter.since }), ...(filter.until && { [Op.lt]: filter.until }) };
  const deletedAt =
    filter.deleted === 'only' || filter.deletedBefore
      ? { [Op.ne]: null, ...(filter.deletedBefore && { [Op.lt]: filter.deletedBefore }) }
      : undefined;
  return {
    ...(Reflect.ownKeys(id).length > 0 && { id }),
    ...(Reflect.ownKeys(createdAt).length > 0 && { createdAt }),
    ...(deletedAt && { deletedAt }),
    ...(filter.conversationId !== undefined && { conversationId: filter.conversationId }),
    ...(filter.senderId !== undefined && { senderId: filter.senderId }),
  };
}
