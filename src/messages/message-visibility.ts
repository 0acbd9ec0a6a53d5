import type { AuditLogRepository } from '../audit/audit-log.repository';
import type { ConversationRecord } from '../conversations/conversation.record';
import type { ConversationRepository } from '../conversations/conversation.repository';
import type { ModelTransaction, Sql } from '../db/sql';
import type { AppError } from '../shared/errors';
import type { NewWebhookEvent, WebhookQueue } from '../webhooks/webhook-events';
import { toMessageJson } from './message.presenter';
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
  /** Webhooks on: the change's event is queued in its transaction. */
  webhooks?: WebhookQueue;
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

/** The webhook that reports a change (API.md, "Webhooks to the host"). */
export function visibilityEvent(change: VisibilityChange, message: MessageRecord, actorId: number): NewWebhookEvent {
  const { id: messageId, conversationId } = message;
  if (change === 'deleted') return { type: 'message.deleted', data: { messageId, conversationId, deletedBy: actorId } };
  if (change === 'restored') return { type: 'message.restored', data: { message: toMessageJson(message) }, carriesMessageId: messageId };
  return { type: 'message.purged', data: { messageId, conversationId } };
}

/**
 * The one transaction that changes whether users see a message: its conversation locked like a send
 * (so the fallback lastMessage cannot race a new message), the row changed, lastMessage and the
 * receiver's unread counter moved, the audit entry and the webhook written, all or nothing. A purge
 * also erases the message's text from the webhook events that carry it.
 */
export async function changeVisibility(
  deps: VisibilityChangeDeps,
  request: VisibilityChangeRequest,
): Promise<{ message: MessageRecord; conversation: ConversationRecord }> {
  const changed = await inTransaction(deps, request);
  deps.webhooks?.nudge();
  return changed;
}

function inTransaction(deps: VisibilityChangeDeps, request: VisibilityChangeRequest): Promise<{ message: MessageRecord; conversation: ConversationRecord }> {
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
    if (deps.webhooks) {
      if (change === 'purged') await deps.webhooks.eraseMessage(messageId, transaction);
      await deps.webhooks.add([visibilityEvent(change, message, actorId)], transaction);
    }
    return { message, conversation };
  });
}
