import type { AuditEntry, AuditLogRepository } from '../audit/audit-log.repository';
import type { Principal } from '../auth/token-verifier';
import type { ConversationRepository } from '../conversations/conversation.repository';
import type { ConversationService } from '../conversations/conversation.service';
import type { Sql } from '../db/sql';
import type { ChatNotifier } from '../events/chat-notifier';
import { toMessageJson, type MessageJson } from '../messages/message.presenter';
import type { MessageRecord } from '../messages/message.record';
import { AppError, notFound } from '../shared/errors';
import type { AdminMessageFilter, AdminMessageRepository } from './admin-message.repository';

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
  ): Promise<{ entries: AuditEntry[] }> {
    this.authorize(principal);
    return { entries: await this.deps.audit.list(filter) };
  }

  /** Makes a soft-deleted message visible again; lastMessage and the receiver's unread count follow. */
  async restore(principal: Principal, messageId: number, reason?: string): Promise<{ message: AdminMessageJson }> {
    this.authorize(principal);
    const adminId = principal.userId;
    const message = await this.findAny(messageId);
    if (!message.deletedAt) throw new AppError('CONFLICT', 'The message is not deleted');
    const result = await this.deps.sql.transaction(async (transaction) => {
      await this.deps.conversations.lockById(message.conversationId, transaction);
      const restored = await this.deps.adminMessages.restore(messageId, transaction);
      if (!restored) throw new AppError('CONFLICT', 'The message is not deleted');
      const conversation = await this.deps.conversations.refreshLastMessage(
        restored.conversationId,
        { userId: restored.receiverId, delta: restored.isRead ? 0 : 1 },
        transaction,
      );
      await this.deps.audit.append(
        { action: 'message.restored', actorId: adminId, messageId, conversationId: restored.conversationId, reason },
        transaction,
      );
      return { restored, conversation };
    });
    const views = await this.deps.conversationService.viewsForBoth(result.conversation);
    this.deps.notifier.messageRestored({ message: toMessageJson(result.restored), views });
    return { message: toAdminMessageJson(result.restored) };
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
    const purged = await this.deps.sql.transaction(async (transaction) => {
      const conversation = await this.deps.conversations.lockById(message.conversationId, transaction);
      const removed = await this.deps.adminMessages.purge(messageId, transaction);
      if (!removed || !conversation) throw notFound('Message not found');
      const wasUnread = removed.deletedAt === null && !removed.isRead;
      await this.deps.conversations.refreshLastMessage(
        removed.conversationId,
        { userId: removed.receiverId, delta: wasUnread ? -1 : 0 },
        transaction,
      );
      await this.deps.audit.append(
        { action: 'message.purged', actorId, messageId, conversationId: removed.conversationId, reason },
        transaction,
      );
      return { removed, participantIds: [conversation.participant1Id, conversation.participant2Id] as [number, number] };
    });
    await this.deps.onPurged?.(purged.removed);
    // Users still showing it (it was not soft-deleted first) drop it.
    if (purged.removed.deletedAt === null) {
      this.deps.notifier.messageDeleted({ messageId, conversationId: purged.removed.conversationId, participantIds: purged.participantIds });
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
