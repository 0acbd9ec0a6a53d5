import type { AttachmentSummary } from '../attachments/attachment.presenter';
import type { AttachmentRepository } from '../attachments/attachment.repository';
import type { AuditLogRepository } from '../audit/audit-log.repository';
import type { ConversationJson } from '../conversations/conversation.presenter';
import { isParticipant, otherParticipant } from '../conversations/conversation.record';
import type { ConversationRepository } from '../conversations/conversation.repository';
import type { ConversationService } from '../conversations/conversation.service';
import type { Sql } from '../db/sql';
import type { ChatNotifier } from '../events/chat-notifier';
import { AppError, notFound, validationFailed } from '../shared/errors';
import type { UserDirectory } from '../users/user.directory';
import type { WebhookQueue } from '../webhooks/webhook-events';
import { checkContent } from './message-rules';
import { changeVisibility } from './message-visibility';
import { type MessageJson, toMessageJson } from './message.presenter';
import type { MessageRecord } from './message.record';
import type { MessageRepository } from './message.repository';
import type { MessageWriter } from './message-writer';

export interface SendInput {
  senderId: number;
  /** One of receiverId or conversationId names the other side. */
  receiverId?: number;
  conversationId?: number;
  content?: string;
  clientMessageId?: string;
  /** An upload of the sender's that no message carries yet. */
  attachmentId?: number;
}

export interface SendResult {
  message: MessageJson;
  conversation: ConversationJson;
  /** false: a retry of a stored clientMessageId; nothing was written. */
  created: boolean;
}

export interface HistoryQuery {
  limit: number;
  before?: number;
  after?: number;
}

export interface MessageServiceDeps {
  sql: Sql;
  conversations: ConversationRepository;
  messages: MessageRepository;
  conversationService: ConversationService;
  users: UserDirectory;
  notifier: ChatNotifier;
  audit: AuditLogRepository;
  attachments: AttachmentRepository;
  writer: MessageWriter;
  maxMessageLength: number;
  /** Webhooks on: events are queued in the transactions of their changes (sends: the writer's statement). */
  webhooks?: WebhookQueue;
}

/** What `messages_read` (and the messages.read webhook) says of a mark, or undefined when it marked nothing. */
function readEvent(
  conversationId: number,
  readerId: number,
  marked: { count: number; upToMessageId: number | null; at: Date },
): { conversationId: number; readerId: number; upToMessageId: number; readAt: string; count: number } | undefined {
  if (marked.count === 0 || marked.upToMessageId === null) return undefined;
  return { conversationId, readerId, upToMessageId: marked.upToMessageId, readAt: marked.at.toISOString(), count: marked.count };
}

export class MessageService {
  constructor(private readonly deps: MessageServiceDeps) {}

  /**
   * Stores a message and announces it. The message is returned (and acked) only after its
   * transaction has committed. A clientMessageId already used by the sender returns the stored
   * message and writes nothing, even when two retries race (the unique index decides).
   */
  async send(input: SendInput): Promise<SendResult> {
    const { senderId } = input;
    const content = checkContent(input.content, input.attachmentId !== undefined, this.deps.maxMessageLength);
    const { receiverId, conversationId } = await this.resolveReceiver(input);

    let attachment: AttachmentSummary | null = null;
    if (input.attachmentId !== undefined) {
      // A retry must be recognised before the upload is found "already sent" by its first attempt.
      const stored = input.clientMessageId === undefined ? undefined : await this.deps.messages.findByClientMessageId(senderId, input.clientMessageId);
      if (stored) return this.replay(stored, receiverId, content, input.attachmentId);
      attachment = await this.claimableAttachment(senderId, input.attachmentId);
    }

    // The writer batches concurrent sends and keeps ids in commit order per conversation (see
    // message-writer.ts). Without an attachment, a retry is recognised by the unique index there.
    const write = async (id: number) =>
      this.deps.writer.write({ conversationId: id, senderId, receiverId, content, clientMessageId: input.clientMessageId ?? null, attachment });
    let written = await write(conversationId ?? (await this.deps.conversationService.idForPair(senderId, receiverId)));
    if (written.kind === 'no-conversation') {
      if (conversationId !== undefined) throw notFound('Conversation not found');
      // The cached id of the pair is stale (its row is gone); look it up afresh, once.
      this.deps.conversationService.forgetPair(senderId, receiverId);
      written = await write(await this.deps.conversationService.idForPair(senderId, receiverId));
    }
    if (written.kind === 'duplicate') {
      const stored = await this.deps.messages.findByClientMessageId(senderId, input.clientMessageId!);
      return this.replay(stored!, receiverId, content, input.attachmentId);
    }
    if (written.kind !== 'written') throw new AppError('UNAVAILABLE', 'The conversation could not be written; try again');

    const views = await this.deps.conversationService.viewsForBoth(written.conversation, written.lastMessage);
    const message = toMessageJson(written.message);
    this.deps.notifier.messageSent({ message, views });
    return { message, conversation: views[senderId]!, created: true };
  }

  async history(userId: number, conversationId: number, query: HistoryQuery): Promise<{ messages: MessageJson[]; hasMore: boolean }> {
    if (query.before !== undefined && query.after !== undefined) {
      throw validationFailed('Use before or after, not both', [{ field: 'before', location: 'query', message: 'not with after' }]);
    }
    // The participant check rides in the page's own query: one round trip for the hottest read.
    const page = await this.deps.messages.history(userId, conversationId, query.limit, query);
    if (!page) throw notFound('Conversation not found');
    return { messages: page.messages.map(toMessageJson), hasMore: page.hasMore };
  }

  /** Marks what the user received in the conversation (up to an id) as read. Idempotent. */
  async markRead(userId: number, conversationId: number, upToMessageId?: number): Promise<{ conversationId: number; readAt: string; count: number }> {
    const conversation = await this.deps.conversationService.requireParticipant(userId, conversationId);
    const { webhooks } = this.deps;
    const marked = await this.deps.sql.transaction(async (transaction) => {
      // The conversation's row first, like send and delete: taking the message rows first and the
      // counter after would deadlock against a delete, which locks in that order.
      await this.deps.conversations.lockById(conversationId, transaction);
      const result = await this.deps.messages.markRead(conversationId, userId, upToMessageId, transaction);
      const event = readEvent(conversationId, userId, result);
      if (webhooks && event) await webhooks.add([{ type: 'messages.read', data: event }], transaction);
      return result;
    });
    const readAt = marked.at.toISOString();
    const event = readEvent(conversationId, userId, marked);
    if (event) {
      webhooks?.nudge();
      this.deps.notifier.messagesRead({ ...event, senderId: otherParticipant(conversation, userId) });
    }
    return { conversationId, readAt, count: marked.count };
  }

  /** The receiver's device confirms it has the messages up to an id (sent → delivered). */
  async markDelivered(
    userId: number,
    conversationId: number,
    upToMessageId: number,
  ): Promise<{ conversationId: number; deliveredAt: string; count: number }> {
    const conversation = await this.deps.conversationService.requireParticipant(userId, conversationId);
    const marked = await this.deps.messages.markDelivered(conversationId, userId, upToMessageId);
    const deliveredAt = marked.at.toISOString();
    if (marked.count > 0 && marked.upToMessageId !== null) {
      this.deps.notifier.messagesDelivered({
        conversationId,
        receiverId: userId,
        senderId: otherParticipant(conversation, userId),
        upToMessageId: marked.upToMessageId,
        deliveredAt,
        count: marked.count,
      });
    }
    return { conversationId, deliveredAt, count: marked.count };
  }

  /** Soft delete by the sender. lastMessage falls back and the receiver's unread count drops. */
  async delete(userId: number, messageId: number): Promise<void> {
    const message = await this.deps.messages.findVisible(messageId);
    if (!message || (message.senderId !== userId && message.receiverId !== userId)) throw notFound('Message not found');
    if (message.senderId !== userId) throw new AppError('FORBIDDEN', 'Only the sender can delete a message');

    const { conversation } = await changeVisibility(this.deps, {
      change: 'deleted',
      messageId,
      conversationId: message.conversationId,
      actorId: userId,
      apply: (transaction) => this.deps.messages.softDelete(messageId, userId, transaction),
      missing: () => notFound('Message not found'),
    });
    this.deps.notifier.messageDeleted({
      messageId,
      conversationId: conversation.id,
      participantIds: [conversation.participant1Id, conversation.participant2Id],
    });
  }

  async search(userId: number, query: { q: string; conversationId?: number; limit: number }): Promise<{ messages: MessageJson[] }> {
    if (query.q.trim() === '') throw validationFailed('q must not be blank', [{ field: 'q', location: 'query', message: 'must not be blank' }]);
    if (query.conversationId !== undefined) await this.deps.conversationService.requireParticipant(userId, query.conversationId);
    const found = await this.deps.messages.search(userId, query.q, query.limit, query.conversationId);
    return { messages: found.map(toMessageJson) };
  }

  private async resolveReceiver(input: SendInput): Promise<{ receiverId: number; conversationId?: number }> {
    if (input.conversationId !== undefined) {
      if (input.receiverId !== undefined) {
        throw validationFailed('Give receiverId or conversationId, not both', [{ field: 'conversationId', message: 'not with receiverId' }]);
      }
      const conversation = await this.deps.conversationService.requireParticipant(input.senderId, input.conversationId);
      return { receiverId: otherParticipant(conversation, input.senderId), conversationId: conversation.id };
    }
    if (input.receiverId === undefined) {
      throw validationFailed('receiverId is required', [{ field: 'receiverId', message: 'is required' }]);
    }
    await this.deps.users.requireOther(input.senderId, input.receiverId, 'receiverId', 'send a message to');
    return { receiverId: input.receiverId };
  }

  /**
   * The display fields of an upload the sender may attach: their own (anyone else's is NOT_FOUND,
   * so uploads cannot be probed) and not sent yet (CONFLICT). The unique index on
   * messages.attachment_id settles two sends racing with one upload.
   */
  private async claimableAttachment(senderId: number, attachmentId: number): Promise<AttachmentSummary> {
    const found = await this.deps.attachments.findWithMessage(attachmentId);
    if (!found || found.uploaderId !== senderId) throw notFound('Attachment not found');
    if (found.message) throw new AppError('CONFLICT', 'This attachment was already sent');
    return { id: found.id, name: found.name, mimeType: found.mimeType, size: found.size };
  }

  /** The answer to a retry: the stored message, if the retry really is the same message. */
  private async replay(stored: MessageRecord, receiverId: number, content: string, attachmentId?: number): Promise<SendResult> {
    if (stored.deletedAt) throw new AppError('CONFLICT', 'This clientMessageId belongs to a message that was deleted');
    if (stored.receiverId !== receiverId || stored.content !== content || stored.attachmentId !== (attachmentId ?? null)) {
      throw new AppError('CONFLICT', 'This clientMessageId was already used for a different message');
    }
    const conversation = await this.deps.conversations.findById(stored.conversationId);
    if (!conversation || !isParticipant(conversation, stored.senderId)) throw notFound('Conversation not found');
    return {
      message: toMessageJson(stored),
      conversation: await this.deps.conversationService.view(stored.senderId, conversation),
      created: false,
    };
  }
}
