import type { ConversationJson } from '../conversations/conversation.presenter';
import type { MessageJson } from '../messages/message.presenter';

/**
 * What the services announce after a write has committed. The realtime gateway implements it
 * with Socket.IO rooms; the services never see `io`. Every door (REST or socket) triggers the
 * same announcements because the services make them.
 */
export interface ChatNotifier {
  messageSent(event: {
    message: MessageJson;
    /** The conversation as each participant sees it (unread counts differ). */
    views: Record<number, ConversationJson>;
  }): void;
  messagesRead(event: {
    conversationId: number;
    readerId: number;
    senderId: number;
    upToMessageId: number;
    readAt: string;
    count: number;
  }): void;
  messagesDelivered(event: {
    conversationId: number;
    receiverId: number;
    senderId: number;
    upToMessageId: number;
    deliveredAt: string;
    count: number;
  }): void;
  messageDeleted(event: { messageId: number; conversationId: number; participantIds: [number, number] }): void;
  /** An admin restored a soft-deleted message. */
  messageRestored(event: { message: MessageJson; views: Record<number, ConversationJson> }): void;
}

/** Used when nothing listens (REST-only deployments, tests of the service layer). */
export const silentNotifier: ChatNotifier = {
  messageSent: () => undefined,
  messagesRead: () => undefined,
  messagesDelivered: () => undefined,
  messageDeleted: () => undefined,
  messageRestored: () => undefined,
};
