import { bearerToken, type TokenVerifier } from '../auth/token-verifier';
import type { ConversationService } from '../conversations/conversation.service';
import { conversationRefFields } from '../conversations/conversation.validators';
import type { MessageService } from '../messages/message.service';
import { deleteMessageFields, deliveredFields, markAsReadFields, sendMessageFields } from '../messages/message.validators';
import type { PresenceService } from '../presence/presence.service';
import { onlineStatusFields } from '../presence/presence.validators';
import type { TypingMemo, TypingService } from '../presence/typing.service';
import { AppError, errorBody, toAppError } from '../shared/errors';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import { validatePayload } from '../shared/validation';
import { answer, type ChatSocket, handshakeError } from './ack';
import type { ClientEventName } from './events';
import { RecoveryGate } from './recovery';
import type { SessionExpiry } from './session-expiry';
import { conversationRoom, userRoom } from './rooms';
import type { ChatServer } from './socket-notifier';
import type { DoorRule, FairUse } from '../limits/fair-use';

export interface SocketHandlerDeps {
  verifier: TokenVerifier;
  fairUse: FairUse;
  socketMaxPending: number;
  conversations: ConversationService;
  messages: MessageService;
  presence: PresenceService;
  typing: TypingService;
  sessions: SessionExpiry;
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
        next(handshakeError(appError));
      },
    );
  });

  io.on('connection', (socket) => {
    const { userId } = socket.data.principal;
    void socket.join(userRoom(userId));
    const presenceFailed = (err: unknown) => errorLog(deps.logger).error('presence update failed', err);
    deps.sessions.started(socket);
    deps.presence.connected(userId, socket.id).catch(presenceFailed);
    registerEvents(socket, deps);
    socket.on('disconnect', () => {
      deps.sessions.ended(socket);
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

/** Each client event's fair-use class (API.md, "Fair use"), the socket side of the router's. */
const EVENT_RULES: Record<ClientEventName, DoorRule> = {
  join_conversation: 'read',
  leave_conversation: 'read',
  send_message: 'send_message',
  typing: 'typing',
  stop_typing: 'typing',
  mark_as_read: 'receipt',
  message_delivered: 'receipt',
  delete_message: 'send',
  get_online_status: 'read',
};

/**
 * Every client event, in one table shared by all sockets: a socket holds one listener that looks
 * its event up here, rather than a set of closures of its own (which cost each idle socket about a
 * kilobyte). An event not in the table is answered NOT_FOUND when it carries an ack, else ignored.
 */
const EVENT_HANDLERS: Record<ClientEventName, EventHandler> = {
  async join_conversation({ socket, userId, deps }, payload) {
    const { conversationId } = validatePayload(conversationRefFields, payload);
    const conversation = await deps.conversations.get(userId, conversationId);
    await socket.join(conversationRoom(conversationId));
    return { conversation };
  },

  async leave_conversation({ socket }, payload) {
    const { conversationId } = validatePayload(conversationRefFields, payload);
    await socket.leave(conversationRoom(conversationId));
    return {};
  },

  async send_message({ userId, deps }, payload) {
    const input = validatePayload(sendMessageFields, payload);
    const { message, conversation } = await deps.messages.send({ ...input, senderId: userId });
    return { message, conversation };
  },

  async typing({ socket, userId, deps }, payload) {
    const { conversationId } = validatePayload(conversationRefFields, payload);
    await deps.typing.start(userId, conversationId, socket.id, typingMemo(socket));
    return {};
  },

  async stop_typing({ socket, userId, deps }, payload) {
    const { conversationId } = validatePayload(conversationRefFields, payload);
    await deps.typing.stop(userId, conversationId, typingMemo(socket));
    return {};
  },

  async mark_as_read({ userId, deps }, payload) {
    const { conversationId, upToMessageId } = validatePayload(markAsReadFields, payload);
    return deps.messages.markRead(userId, conversationId, upToMessageId);
  },

  async message_delivered({ userId, deps }, payload) {
    const { conversationId, upToMessageId } = validatePayload(deliveredFields, payload);
    return deps.messages.markDelivered(userId, conversationId, upToMessageId);
  },

  async delete_message({ userId, deps }, payload) {
    const { messageId } = validatePayload(deleteMessageFields, payload);
    await deps.messages.delete(userId, messageId);
    return {};
  },

  async get_online_status({ userId, deps }, payload) {
    const { userIds } = validatePayload(onlineStatusFields, payload);
    return { statuses: await deps.presence.statuses(userId, userIds) };
  },
};

function registerEvents(socket: ChatSocket, deps: SocketHandlerDeps): void {
  const context: EventContext = { socket, userId: socket.data.principal.userId, deps };
  const { fairUse } = deps;
  const unlimited = fairUse.isExempt(socket.data.principal);
  socket.data.pending = 0;
  socket.onAny((event: string, ...args: unknown[]) => {
    if (!Object.hasOwn(EVENT_HANDLERS, event)) {
      // A client waiting on an ack should not wait forever for an event nobody handles.
      const ack = args.at(-1);
      if (typeof ack === 'function') ack({ ok: false, error: errorBody(new AppError('NOT_FOUND', 'No such event')) });
      return;
    }
    const name = event as ClientEventName;
    // Between exp and the expiry timer (event-loop lag at most), the token is already dead.
    const { expiresAt } = socket.data.principal;
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      void answer(socket, name, deps.logger, () => Promise.reject(TOKEN_EXPIRED))(...args);
      return;
    }
    if (!unlimited && socket.data.pending >= deps.socketMaxPending) {
      void answer(socket, name, deps.logger, () => Promise.reject(TOO_MANY_PENDING))(...args);
      return;
    }
    socket.data.pending++;
    void answer(socket, name, deps.logger, async (payload) => {
      await fairUse.admit(socket.data.principal, EVENT_RULES[name], payload);
      return fairUse.inLane(socket.data.principal, () => EVENT_HANDLERS[name](context, payload));
    })(...args).finally(() => socket.data.pending--);
  });
}

const TOKEN_EXPIRED = new AppError('UNAUTHORIZED', 'The token has expired');

/** SOCKET_MAX_PENDING: refused at once, with nothing to wait for but the socket's own acks. */
const TOO_MANY_PENDING = new AppError('RATE_LIMITED', 'Too many events in progress on this socket; wait for their acks', undefined, 0);

/**
 * The typing service's memo for this socket, made on first use; it goes with the socket. (A session
 * recovered through an adapter that serialises socket.data brings back a plain object: start over.)
 */
function typingMemo(socket: ChatSocket): TypingMemo {
  const memo = socket.data.typingMemo;
  return memo instanceof Map ? memo : (socket.data.typingMemo = new Map());
}
