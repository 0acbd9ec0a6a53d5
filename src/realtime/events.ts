import type { ConversationJson } from '../conversations/conversation.presenter';
import type { MessageJson } from '../messages/message.presenter';
import type { Principal } from '../auth/token-verifier';
import type { ErrorBody } from '../shared/errors';
import type { PresenceJson } from '../presence/presence.service';
import type { SessionEndReason } from './session-expiry';
import type { TypingMemo } from '../presence/typing.service';

/** What every client → server event's ack receives. */
export type AckResponse<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type Ack<T extends object = object> = (response: AckResponse<T>) => void;

/**
 * Client → server events (API.md, "Socket.IO"). Payloads are typed `unknown`: they come from the
 * network and are validated with the same schemas as REST before anything reads them.
 */
export interface ClientToServerEvents {
  join_conversation(payload: unknown, ack?: Ack): void;
  leave_conversation(payload: unknown, ack?: Ack): void;
  send_message(payload: unknown, ack?: Ack): void;
  typing(payload: unknown, ack?: Ack): void;
  stop_typing(payload: unknown, ack?: Ack): void;
  mark_as_read(payload: unknown, ack?: Ack): void;
  message_delivered(payload: unknown, ack?: Ack): void;
  delete_message(payload: unknown, ack?: Ack): void;
  get_online_status(payload: unknown, ack?: Ack): void;
}

export type ClientEventName = keyof ClientToServerEvents;

export interface ServerToClientEvents {
  new_message(event: { message: MessageJson; conversation: ConversationJson }): void;
  message_notification(event: { message: MessageJson; conversation: ConversationJson }): void;
  messages_read(event: { conversationId: number; readerId: number; upToMessageId: number; readAt: string; count: number }): void;
  messages_delivered(event: {
    conversationId: number;
    receiverId: number;
    upToMessageId: number;
    deliveredAt: string;
    count: number;
  }): void;
  user_typing(event: { conversationId: number; userId: number; isTyping: boolean }): void;
  message_deleted(event: { messageId: number; conversationId: number }): void;
  /** Not in API.md: an admin restored a deleted message (docs/api.md). */
  message_restored(event: { message: MessageJson; conversation: ConversationJson }): void;
  presence(event: PresenceJson): void;
  /** Sent just before the server disconnects a socket whose token expired or whose user was removed. */
  session_expired(event: { reason: SessionEndReason }): void;
  error(event: { event: string; error: ErrorBody }): void;
}

export interface SocketData {
  principal: Principal;
  /** Events of this socket in progress (SOCKET_MAX_PENDING). */
  pending: number;
  /** The typing service's memo for this socket (see TypingMemo). Made on first use. */
  typingMemo?: TypingMemo;
}
