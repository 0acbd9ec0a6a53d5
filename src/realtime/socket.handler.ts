import type { ExtendedError } from 'socket.io';
import { bearerToken, type TokenVerifier } from '../auth/token-verifier';
import type { ConversationService } from '../conversations/conversation.service';
import { conversationRefSchema } from '../conversations/conversation.validators';
import type { MessageService } from '../messages/message.service';
import {
  deleteMessageSchema,
  deliveredSchema,
  markAsReadSchema,
  type SendMessageInput,
  sendMessageSchema,
} from '../messages/message.validators';
import type { PresenceService } from '../presence/presence.service';
import { onlineStatusSchema } from '../presence/presence.validators';
import type { TypingTracker } from '../presence/typing-tracker';
import { toAppError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { validatePayload } from '../shared/validation';
import { answer, type ChatSocket } from './ack';
import { RecoveryGate } from './recovery';
import { conversationRoom, userRoom } from './rooms';
import type { ChatServer } from './socket-notifier';

export interface SocketHandlerDeps {
  verifier: TokenVerifier;
  conversations: ConversationService;
  messages: MessageService;
  presence: PresenceService;
  typing: TypingTracker;
  logger: Logger;
}

/**
 * The Socket.IO door. Each handler validates with the REST schemas, calls the same service as
 * REST and answers through the ack; broadcasting is the services' notifier's job.
 */
export function registerSocketHandlers(io: ChatServer, deps: SocketHandlerDeps): void {
  const recovery = new RecoveryGate(io);
  // Runs on every connection, recovered ones included (skipMiddlewares: false), so a token that
  // expired while the client was away is refused on reconnect, and a recovered connection gets
  // its missed events only once its token is known to name the same user.
  io.use((socket, next) => {
    const { auth, headers } = socket.handshake;
    const token = typeof auth?.token === 'string' ? auth.token : bearerToken(headers.authorization);
    deps.verifier.verify(token).then(
      (principal) => {
        recovery.release(socket, principal.userId);
        socket.data.principal = principal;
        socket.data.conversations ??= new Map();
        next();
      },
      (err: unknown) => {
        recovery.release(socket, undefined);
        const appError = toAppError(err);
        const refused: ExtendedError = new Error(appError.message);
        refused.data = { code: appError.code };
        next(refused);
      },
    );
  });

  io.on('connection', (socket) => {
    const { userId } = socket.data.principal;
    void socket.join(userRoom(userId));
    deps.presence.connected(userId, socket.id).catch((err: unknown) => deps.logger.error('presence update failed', { err: String(err) }));
    registerEvents(socket, deps);
    socket.on('disconnect', () => {
      deps.typing.socketGone(socket.id);
      deps.presence
        .disconnected(userId, socket.id)
        .catch((err: unknown) => deps.logger.error('presence update failed', { err: String(err) }));
    });
  });
}

function registerEvents(socket: ChatSocket, deps: SocketHandlerDeps): void {
  const { userId } = socket.data.principal;
  const on = <T extends object>(event: Parameters<typeof answer>[1], work: (payload: unknown) => Promise<T>) =>
    socket.on(event, answer(socket, event, deps.logger, work));

  /** The other participant, if the user takes part in the conversation (NOT_FOUND otherwise). */
  const otherParticipant = async (conversationId: number): Promise<number> => {
    const known = socket.data.conversations.get(conversationId);
    if (known !== undefined) return known;
    const conversation = await deps.conversations.get(userId, conversationId);
    socket.data.conversations.set(conversationId, conversation.participant.id);
    return conversation.participant.id;
  };

  on('join_conversation', async (payload) => {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    const conversation = await deps.conversations.get(userId, conversationId);
    socket.data.conversations.set(conversationId, conversation.participant.id);
    await socket.join(conversationRoom(conversationId));
    return { conversation };
  });

  on('leave_conversation', async (payload) => {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    await socket.leave(conversationRoom(conversationId));
    return {};
  });

  on('send_message', async (payload) => {
    const input = await validatePayload<SendMessageInput>(sendMessageSchema, payload);
    const { message, conversation } = await deps.messages.send({ ...input, senderId: userId });
    return { message, conversation };
  });

  on('typing', async (payload) => {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    deps.typing.start(conversationId, userId, await otherParticipant(conversationId), socket.id);
    return {};
  });

  on('stop_typing', async (payload) => {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    await otherParticipant(conversationId);
    deps.typing.stop(conversationId, userId);
    return {};
  });

  on('mark_as_read', async (payload) => {
    const { conversationId, upToMessageId } = await validatePayload<{ conversationId: number; upToMessageId?: number }>(
      markAsReadSchema,
      payload,
    );
    return deps.messages.markRead(userId, conversationId, upToMessageId);
  });

  on('message_delivered', async (payload) => {
    const { conversationId, upToMessageId } = await validatePayload<{ conversationId: number; upToMessageId: number }>(
      deliveredSchema,
      payload,
    );
    return deps.messages.markDelivered(userId, conversationId, upToMessageId);
  });

  on('delete_message', async (payload) => {
    const { messageId } = await validatePayload<{ messageId: number }>(deleteMessageSchema, payload);
    await deps.messages.delete(userId, messageId);
    return {};
  });

  on('get_online_status', async (payload) => {
    const { userIds } = await validatePayload<{ userIds: number[] }>(onlineStatusSchema, payload);
    return { statuses: await deps.presence.statuses(userIds) };
  });
}
