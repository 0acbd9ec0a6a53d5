import { Op } from 'sequelize';
import type { ChatModels } from '../db/chat-models';
import { type Sql, toNumber, type Transaction } from '../db/sql';

export type AuditAction = 'message.deleted' | 'message.restored' | 'message.purged';

/** An audit entry as the API shows it. */
export interface AuditEntryJson {
  id: number;
  action: AuditAction;
  actorId: number;
  messageId: number;
  conversationId: number;
  at: string;
  reason: string | null;
}

export interface NewAuditEntry {
  action: AuditAction;
  actorId: number;
  messageId: number;
  conversationId: number;
  reason?: string | null;
}

/** The append-only audit log. It records who did what to which message, never the content. */
export class AuditLogRepository {
  constructor(
    private readonly sql: Sql,
    private readonly models: Pick<ChatModels, 'AuditEntry'>,
  ) {}

  async append(entry: NewAuditEntry, transaction: Transaction): Promise<void> {
    await this.sql.rows(
      `INSERT INTO audit_log (action, actor_id, message_id, conversation_id, reason) VALUES ($1, $2, $3, $4, $5)`,
      [entry.action, entry.actorId, entry.messageId, entry.conversationId, entry.reason ?? null],
      transaction,
    );
  }

  /** Newest first; `before` is the last id of the previous page. Through the model: a cold path. */
  list(filter: { messageId?: number; actorId?: number; before?: number; limit: number }): Promise<AuditEntryJson[]> {
    return this.sql.modelTransaction(async ({ orm }) => {
      const found = await this.models.AuditEntry.findAll({
        where: {
          ...(filter.messageId !== undefined && { messageId: filter.messageId }),
          ...(filter.actorId !== undefined && { actorId: filter.actorId }),
          ...(filter.before !== undefined && { id: { [Op.lt]: filter.before } }),
        },
        order: [['id', 'DESC']],
        limit: filter.limit,
        transaction: orm,
      });
      return found.map((entry) => ({
        id: toNumber(entry.id),
        action: entry.action,
        actorId: entry.actorId,
        messageId: toNumber(entry.messageId),
        conversationId: entry.conversationId,
        at: entry.at.toISOString(),
        reason: entry.reason,
      }));
    });
  }
}
