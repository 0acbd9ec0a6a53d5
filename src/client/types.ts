/**
 * The wire types of the contract (API.md) for clients: the server's own JSON types, and the client →
 * server events with their payloads and ack data typed (the server types them `unknown` on purpose,
 * as they come from the network). Type-only imports: nothing of the server is bundled.
 */
import type { AdminMessageJson } from '../admin/admin.service';
import type { AttachmentJson } from '../attachments/attachment.presenter';
import type { AuditEntryJson } from '../audit/audit-log.repository';
import type { ConversationPage, UnreadCounts } from '../conversations/conversation.service';
import type { ConversationJson } from '../conversations/conversation.presenter';
import type { MessageJson } from '../messages/message.presenter';
import type { PresenceJson } from '../presence/presence.service';
import type { ServerToClientEvents } from '../realtime/events';
import type { ErrorBody, ErrorCode } from '../shared/errors';

export type { AdminMessageJson, AttachmentJson, AuditEntryJson, ConversationJson, ConversationPage, ErrorBody, ErrorCode, MessageJson, PresenceJson, ServerToClientEvents, UnreadCounts };

export interface SendInput {
  /** One of receiverId or conversationId names the other side. */
  receiverId?: number;
  conversationId?: number;
  content?: string;
  attachmentId?: number;
  /** Made by the client when absent; every retry of one send reuses it. */
  clientMessageId?: string;
}

export interface Sent {
  message: MessageJson;
  conversation: ConversationJson;
}

export interface ReadMark {
  conversationId: number;
  readAt: string;
  count: number;
}

export interface DeliveryMark {
  conversationId: number;
  deliveredAt: string;
  count: number;
}

export interface HistoryPage {
  messages: MessageJson[];
  hasMore: boolean;
}

/** What each client → server event carries and what its ack holds (besides `ok`). */
export interface ClientEventMap {
  join_conversation: [{ conversationId: number }, { conversation: ConversationJson }];
  leave_conversation: [{ conversationId: number }, object];
  send_message: [SendInput, Sent];
  typing: [{ conversationId: number }, object];
  stop_typing: [{ conversationId: number }, object];
  mark_as_read: [{ conversationId: number; upToMessageId?: number }, ReadMark];
  message_delivered: [{ conversationId: number; upToMessageId: number }, DeliveryMark];
  delete_message: [{ messageId: number }, object];
  get_online_status: [{ userIds: number[] }, { statuses: PresenceJson[] }];
}

export type ClientEventName = keyof ClientEventMap;

export type AckOf<E extends ClientEventName> = ({ ok: true } & ClientEventMap[E][1]) | { ok: false; error: ErrorBody };

/** Socket.IO's typing of the client → server direction, for `Socket<ServerToClientEvents, ClientToServerEvents>`. */
export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientEventMap[E][0], ack: (response: AckOf<E>) => void) => void;
};
