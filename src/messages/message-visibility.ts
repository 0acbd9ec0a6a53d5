import type { AuditLogRepository } from '../audit/audit-log.repository';
import type { ConversationRecord } from '../conversations/conversation.record';
import type { ConversationRepository } from '../conversations/conversation.repository';
import type { ModelTransaction, Sql } from '../db/sql';
import type { AppError } from '../shared/errors';
import type { MessageRecord } from './message.record';

/** What happens to a message's visibility: the user's soft delete, the admin's restore or purge. */
export type VisibilityChange = 'deleted' | 'restored' | 'purged';

/**
 * How a change moves the receiver's unread counter, from the row as the change returns it (a purge
 * returns the row as it was). Only an unread message counts, and only while users can see it.
 */
export function unreadDelta(change: VisibilityChange, message: Pick<MessageRecord, 'isRead' | 'deletedAt'>): -1 | 0 | 1 {
  if (message.isRead) return 0;
  if (change === 'restored') return 1;
  if (change === 'deleted') return -1;
  return message.deletedAt === null ? -1 : 0;
}

export interface VisibilityChangeDeps {
  sql: Sql;
  conversations: ConversationRepository;
  audit: AuditLogRepository;
}

export interface VisibilityChangeRequest {
  change: VisibilityChange;
  messageId: number;
  conversationId: number;
  actorId: number;
  reason?: string;
  /** Changes the row; undefined when there was nothing to change (answered with `missing`). */
  apply(transaction: ModelTransaction): Promise<MessageRecord | undefined>;
  missing(): AppError;
}

/**
 * The one transaction that changes whether users see a message: its conversation locked like a send
 * (so the fallback lastMessage cannot race a new message), the row changed, lastMessage and the
 * receiver's unread counter moved, and the audit entry written, all or nothing.
 */
export function changeVisibility(
  deps: VisibilityChangeDeps,
  request: VisibilityChangeRequest,
): Promise<{ message: MessageRecord; conversation: ConversationRecord }> {
  // A model transaction: the admin's restore and purge go through the Message model.
  return deps.sql.modelTransaction(async (transaction) => {
    await deps.conversations.lockById(request.conversationId, transaction);
    const message = await request.apply(transaction);
    if (!message) throw request.missing();
    const conversation = await deps.conversations.refreshLastMessage(
      message.conversationId,
      { userId: message.receiverId, delta: unreadDelta(request.change, message) },
      transaction,
    );
    const { change, actorId, messageId, reason } = request;
    await deps.audit.append({ action: `message.${change}`, actorId, messageId, conversationId: message.conversationId, reason }, transaction);
    return { message, conversation };
  });
}
