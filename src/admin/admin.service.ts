import type { AuditEntryJson, AuditLogRepository } from '../audit/audit-log.repository';
import type { Principal } from '../auth/token-verifier';
import type { ConversationRepository } from '../conversations/conversation.repository';
import type { ConversationService } from '../conversations/conversation.service';
import type { Sql } from '../db/sql';
import type { ChatNotifier } from '../events/chat-notifier';
import { toMessageJson, type MessageJson } from '../messages/message.presenter';
import type { MessageRecord } from '../messages/message.record';
import { AppError, notFound } from '../shared/errors';
import type { AdminMessageFilter, AdminMessageRepository } from './admin-message.repository';
import { changeVisibility } from '../messages/message-visibility';
import type { WebhookQueue } from '../webhooks/webhook-events';

/** The actor of entries Duet writes by itself (retention), not on anyone's request. */
export const SYSTEM_ACTOR_ID = 0;

export interface AdminMessageJson extends MessageJson {
  deletedAt: string | null;
  deletedBy: number | null;
}

export const toAdminMessageJson = (m: MessageRecord): AdminMessageJson => ({
  ...toMessageJson(m),
  deletedAt: m.deletedAt ? m.deletedAt.toISOString() : null,
  deletedBy: m.deletedBy,
});

export interface AdminServiceDeps {
  sql: Sql;
  adminMessages: AdminMessageRepository;
  conversations: ConversationRepository;
  conversationService: ConversationService;
  audit: AuditLogRepository;
  notifier: ChatNotifier;
  /** Webhooks on: restores and purges queue their events in their transactions. */
  webhooks?: WebhookQueue;
  /** Called after a purge has committed, to remove what the message kept outside the database. */
  onPurged?: (message: MessageRecord) => Promise<void>;
}

/**
 * What the host's admins may do: see deleted messages, restore them, purge them, read the audit log.
 * Every method takes the caller and refuses anyone without the admin role, whatever the door.
 */
export class AdminService {
  constructor(private readonly deps: AdminServiceDeps) {}

  /** FORBIDDEN unless the principal has the admin role (the token's role claim is "admin"). */
  authorize(principal: Principal): void {
    if (!principal.isAdmin) throw new AppError('FORBIDDEN', 'Admin role required');
  }

  async listMessages(principal: Principal, filter: Omit<AdminMessageFilter, 'id'>): Promise<{ messages: AdminMessageJson[] }> {
    this.authorize(principal);
    const found = await this.deps.adminMessages.find(filter);
    return { messages: found.map(toAdminMessageJson) };
  }

  async auditLog(
    principal: Principal,
    filter: { messageId?: number; actorId?: number; before?: number; limit: number },
  ): Promise<{ entries: AuditEntryJson[] }> {
    this.authorize(principal);
    return { entries: await this.deps.audit.list(filter) };
  }

  /** Makes a soft-deleted message visible again; lastMessage and the receiver's unread count follow. */
  async restore(principal: Principal, messageId: number, reason?: string): Promise<{ message: AdminMessageJson }> {
    this.authorize(principal);
    const adminId = principal.userId;
    const message = await this.findAny(messageId);
    if (!message.deletedAt) throw new AppError('CONFLICT', 'The message is not deleted');
    const { message: restored, conversation } = await changeVisibility(this.deps, {
      change: 'restored',
      messageId,
      conversationId: message.conversationId,
      actorId: adminId,
      reason,
      apply: (transaction) => this.deps.adminMessages.restore(messageId, transaction),
      missing: () => new AppError('CONFLICT', 'The message is not deleted'),
    });
    const views = await this.deps.conversationService.viewsForBoth(conversation);
    this.deps.notifier.messageRestored({ message: toMessageJson(restored), views });
    return { message: toAdminMessageJson(restored) };
  }

  /**
   * Erases a message for good (erasure requests): the row and its search data, and after commit
   * anything stored outside the database. The audit entry keeps ids only.
   */
  async purge(principal: Principal, messageId: number, reason?: string): Promise<void> {
    this.authorize(principal);
    await this.purgeAs(principal.userId, messageId, reason);
  }

  /** The purge itself, on behalf of `actorId` (an admin, or SYSTEM_ACTOR_ID for retention). */
  private async purgeAs(actorId: number, messageId: number, reason?: string): Promise<void> {
    const message = await this.findAny(messageId);
    const { message: removed, conversation } = await changeVisibility(this.deps, {
      change: 'purged',
      messageId,
      conversationId: message.conversationId,
      actorId,
      reason,
      apply: (transaction) => this.deps.adminMessages.purge(messageId, transaction),
      missing: () => notFound('Message not found'),
    });
    await this.deps.onPurged?.(removed);
    // Users still showing it (it was not soft-deleted first) drop it.
    if (removed.deletedAt === null) {
      const participantIds: [number, number] = [conversation.participant1Id, conversation.participant2Id];
      this.deps.notifier.messageDeleted({ messageId, conversationId: removed.conversationId, participantIds });
    }
  }

  /**
   * Retention: purges messages soft-deleted before `cutoff`, each with an audit entry whose actor
   * is SYSTEM_ACTOR_ID. Returns how many.
   */
  async purgeDeletedBefore(cutoff: Date): Promise<number> {
    let purged = 0;
    for (;;) {
      const batch = await this.deps.adminMessages.find({ deleted: 'only', deletedBefore: cutoff, limit: 100 });
      for (const message of batch) {
        await this.purgeAs(SYSTEM_ACTOR_ID, message.id, 'retention');
        purged++;
      }
      if (batch.length < 100) return purged;
    }
  }

  private async findAny(messageId: number): Promise<MessageRecord> {
    const [message] = await this.deps.adminMessages.find({ id: messageId, deleted: 'include', limit: 1 });
    if (!message) throw notFound('Message not found');
    return message;
  }
}
