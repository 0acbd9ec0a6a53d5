import type { ConversationJson } from '../../src/conversations/conversation.presenter';
import type { MessageJson } from '../../src/messages/message.presenter';

/** A time as the contract writes it: UTC, with milliseconds. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What POST /send answers, what the send_message ack carries besides `ok`, and what new_message delivers. */
export interface Sent {
  message: MessageJson;
  conversation: ConversationJson;
}

/**
 * The whole answer to a first plain send from alice to Bob (createCast's bob), written out once so
 * that REST and the socket are held to the same contract. Ids and times come from `sent` itself.
 */
export function firstSendToBob(sent: Sent, alice: number, bob: number, content: string) {
  return {
    message: {
      id: expect.any(Number),
      conversationId: sent.conversation.id,
      senderId: alice,
      receiverId: bob,
      content,
      attachment: null,
      clientMessageId: null,
      deliveredAt: null,
      isRead: false,
      readAt: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    },
    conversation: {
      id: expect.any(Number),
      participantIds: [alice, bob],
      participant: { id: bob, name: 'Bob', avatarUrl: null },
      lastMessage: sent.message,
      lastMessageAt: sent.message.createdAt,
      unreadCount: 0,
      createdAt: expect.stringMatching(ISO),
    },
  };
}
