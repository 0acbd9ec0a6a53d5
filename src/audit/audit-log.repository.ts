import { Conditions, Sql, toDate, toNumber, type Transaction } from '../db/sql';

export type AuditAction = 'message.deleted' | 'message.restored' | 'message.purged';

export interface AuditEntry {
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
  constructor(private readonly sql: Sql) {}

  async append(entry: NewAuditEntry, transaction: Transaction): Promise<void> {
    await this.sql.rows(
      `INSERT INTO audit_log (action, actor_id, message_id, conversation_id, reason) VALUES ($1, $2, $3, $4, $5)`,
      [entry.action, entry.actorId, entry.messageId, entry.conversationId, entry.reason ?? null],
      transaction,
    );
  }

  /** Newest first; `before` is the last id of the previous page. */
  async list(filter: { messageId?: number; actorId?: number; before?: number; limit: number }): Promise<AuditEntry[]> {
    const where = new Conditions();
    if (filter.messageId !== undefined) where.add((p) => `message_id = ${p}`, filter.messageId);
    if (filter.actorId !== undefined) where.add((p) => `actor_id = ${p}`, filter.actorId);
    if (filter.before !== undefined) where.add((p) => `id < ${p}`, filter.before);
    const limit = where.param(filter.limit);
    const rows = await this.sql.rows(
      `SELECT id, action, actor_id, message_id, conversation_id, reason, at FROM audit_log ${where} ORDER BY id DESC LIMIT ${limit}`,
      where.bind,
    );
    return rows.map((r) => ({
      id: toNumber(r.id),
      action: r.action as AuditAction,
      actorId: toNumber(r.actor_id),
      messageId: toNumber(r.message_id),
      conversationId: toNumber(r.conversation_id),
      at: toDate(r.at).toISOString(),
      reason: (r.reason as string | null) ?? null,
    }));
  }
}
