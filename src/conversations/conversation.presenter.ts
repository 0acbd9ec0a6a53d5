import { toMessageJson, type MessageJson } from '../messages/message.presenter';
import type { MessageRecord } from '../messages/message.record';
import type { UserProfile } from '../users/user.directory';
import { type ConversationRecord, otherParticipant, unreadFor } from './conversation.record';

/** The contract's Conversation shape, as one participant sees it. */
export interface ConversationJson {
  id: number;
  participantIds: [number, number];
  participant: { id: number; name: string | null; avatarUrl: string | null };
  lastMessage: MessageJson | null;
  lastMessageAt: string | null;
  unreadCount: number;
  createdAt: string;
}

export function toConversationJson(
  conversation: ConversationRecord,
  viewerId: number,
  other: UserProfile | undefined,
  lastMessage: MessageRecord | undefined,
): ConversationJson {
  const otherId = otherParticipant(conversation, viewerId);
  return {
    id: conversation.id,
    participantIds: [conversation.participant1Id, conversation.participant2Id],
    // A user the host has since removed still shows, by id.
    participant: other ? { id: other.id, name: other.name, avatarUrl: other.avatarUrl } : { id: otherId, name: null, avatarUrl: null },
    lastMessage: lastMessage ? toMessageJson(lastMessage) : null,
    lastMessageAt: lastMessage ? lastMessage.createdAt.toISOString() : null,
    unreadCount: unreadFor(conversation, viewerId),
    createdAt: conversation.createdAt.toISOString(),
  };
}
