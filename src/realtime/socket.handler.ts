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
import { AppError, errorBody, toAppError } from '../shared/errors';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import { validatePayload } from '../shared/validation';
import { answer, type ChatSocket } from './ack';
import type { ClientEventName } from './events';
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
    const presenceFailed = (err: unknown) => errorLog(deps.logger).error('presence update failed', err);
    deps.presence.connected(userId, socket.id).catch(presenceFailed);
    registerEvents(socket, deps);
    socket.on('disconnect', () => {
      deps.typing.socketGone(socket.id);
      deps.presence.disconnected(userId, socket.id).catch(presenceFailed);
    });
  });
}

/** What a client event's handler gets: the socket it came on, its user and the services. */
interface EventContext {
  socket: ChatSocket;
  userId: number;
  deps: SocketHandlerDeps;
}

type EventHandler = (context: EventContext, payload: unknown) => Promise<object>;

/**
 * Every client event, in one table shared by all sockets: a socket holds one listener that looks
 * its event up here, rather than a set of closures of its own (which cost each idle socket about a
 * kilobyte). An event not in the table is answered NOT_FOUND when it carries an ack, else ignored.
 */
const EVENT_HANDLERS: Record<ClientEventName, EventHandler> = {
  async join_conversation({ socket, userId, deps }, payload) {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    const conversation = await deps.conversations.get(userId, conversationId);
    knownConversations(socket).set(conversationId, conversation.participant.id);
    await socket.join(conversationRoom(conversationId));
    return { conversation };
  },

  async leave_conversation({ socket }, payload) {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    await socket.leave(conversationRoom(conversationId));
    return {};
  },

  async send_message({ userId, deps }, payload) {
    const input = await validatePayload<SendMessageInput>(sendMessageSchema, payload);
    const { message, conversation } = await deps.messages.send({ ...input, senderId: userId });
    return { message, conversation };
  },

  async typing(context, payload) {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    context.deps.typing.start(conversationId, context.userId, await otherParticipant(context, conversationId), context.socket.id);
    return {};
  },

  async stop_typing(context, payload) {
    const { conversationId } = await validatePayload<{ conversationId: number }>(conversationRefSchema, payload);
    await otherParticipant(context, conversationId);
    context.deps.typing.stop(conversationId, context.userId);
    return {};
  },

  async mark_as_read({ userId, deps }, payload) {
    const { conversationId, upToMessageId } = await validatePayload<{ conversationId: number; upToMessageId?: number }>(
      markAsReadSchema,
      payload,
    );
    return deps.messages.markRead(userId, conversationId, upToMessageId);
  },

  async message_delivered({ userId, deps }, payload) {
    const { conversationId, upToMessageId } = await validatePayload<{ conversationId: number; upToMessageId: number }>(
      deliveredSchema,
      payload,
    );
    return deps.messages.markDelivered(userId, conversationId, upToMessageId);
  },

  async delete_message({ userId, deps }, payload) {
    const { messageId } = await validatePayload<{ messageId: number }>(deleteMessageSchema, payload);
    await deps.messages.delete(userId, messageId);
    return {};
  },

  async get_online_status({ deps }, payload) {
    const { userIds } = await validatePayload<{ userIds: number[] }>(onlineStatusSchema, payload);
    return { statuses: await deps.presence.statuses(userIds) };
  },
};

function registerEvents(socket: ChatSocket, deps: SocketHandlerDeps): void {
  const context: EventContext = { socket, userId: socket.data.principal.userId, deps };
  socket.onAny((event: string, ...args: unknown[]) => {
    if (!Object.hasOwn(EVENT_HANDLERS, event)) {
      // A client waiting on an ack should not wait forever for an event nobody handles.
      const ack = args.at(-1);
      if (typeof ack === 'function') ack({ ok: false, error: errorBody(new AppError('NOT_FOUND', 'No such event')) });
      return;
    }
    const handler = EVENT_HANDLERS[event as ClientEventName];
    answer(socket, event as ClientEventName, deps.logger, (payload) => handler(context, payload))(...args);
  });
}

/** Conversations this socket's user was confirmed a participant of (made on first use). */
function knownConversations(socket: ChatSocket): Map<number, number> {
  return (socket.data.conversations ??= new Map());
}

/** The other participant, if the user takes part in the conversation (NOT_FOUND otherwise). */
async function otherParticipant({ socket, userId, deps }: EventContext, conversationId: number): Promise<number> {
  const known = socket.data.conversations?.get(conversationId);
  if (known !== undefined) return known;
  const conversation = await deps.conversations.get(userId, conversationId);
  knownConversations(socket).set(conversationId, conversation.participant.id);
  return conversation.participant.id;
}
