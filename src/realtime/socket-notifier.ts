import type { Server } from 'socket.io';
import type { ChatNotifier } from '../events/chat-notifier';
import type { TypingTracker } from '../presence/typing-tracker';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from './events';
import { userRoom } from './rooms';
import { coalesceWrites } from './write-coalescing';

type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Publishes committed writes to sockets. Events go to user rooms: every socket of a participant is
 * in its user room (whether or not it joined conversation_<id>), and a socket is in exactly one
 * user room, so each socket receives each event once and strangers receive nothing.
 */
export function socketNotifier(io: ChatServer, typing: TypingTracker): ChatNotifier {
  return {
    messageSent({ message, views }) {
      coalesceWrites(io, [userRoom(message.senderId), userRoom(message.receiverId)]);
      for (const userId of [message.senderId, message.receiverId]) {
        io.to(userRoom(userId)).emit('new_message', { message, conversation: views[userId]! });
      }
      io.to(userRoom(message.receiverId)).emit('message_notification', { message, conversation: views[message.receiverId]! });
      // Sending ends the sender's typing, whichever door the message came through.
      typing.stop(message.conversationId, message.senderId);
    },
    messagesRead({ conversationId, readerId, senderId, upToMessageId, readAt, count }) {
      io.to([userRoom(readerId), userRoom(senderId)]).emit('messages_read', { conversationId, readerId, upToMessageId, readAt, count });
    },
    messagesDelivered({ conversationId, receiverId, senderId, upToMessageId, deliveredAt, count }) {
      io.to(userRoom(senderId)).emit('messages_delivered', { conversationId, receiverId, upToMessageId, deliveredAt, count });
    },
    messageDeleted({ messageId, conversationId, participantIds }) {
      io.to(participantIds.map(userRoom)).emit('message_deleted', { messageId, conversationId });
    },
    messageRestored({ message, views }) {
      for (const userId of [message.senderId, message.receiverId]) {
        io.to(userRoom(userId)).emit('message_restored', { message, conversation: views[userId]! });
      }
    },
  };
}

export type { ChatServer };
