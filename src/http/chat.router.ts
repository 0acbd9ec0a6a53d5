import { Router } from 'express';
import type { TokenVerifier } from '../auth/token-verifier';
import { conversationController } from '../conversations/conversation.controller';
import type { ConversationService } from '../conversations/conversation.service';
import {
  conversationIdParams,
  listConversationsQuery,
  openConversationBody,
} from '../conversations/conversation.validators';
import { messageController } from '../messages/message.controller';
import type { MessageService } from '../messages/message.service';
import { historyQuery, markReadBody, messageIdParams, searchQuery, sendMessageSchema } from '../messages/message.validators';
import type { Logger } from '../shared/logger';
import { authenticate } from './auth.middleware';
import { errorHandler, notFoundHandler } from './error-handler';
import { jsonBody } from './json-body.middleware';
import { validate } from './validate.middleware';
import { requestContextMiddleware } from './request-context.middleware';
import type { ChatMetrics } from '../ops/metrics';

export interface ChatRouterDeps {
  verifier: TokenVerifier;
  conversations: ConversationService;
  messages: MessageService;
  logger: Logger;
  maxJsonBytes: number;
  metrics: ChatMetrics;
}

/** The REST half of the contract, to be mounted at /api/chat. One line per route. */
export function createChatRouter(deps: ChatRouterDeps): Router {
  const conversations = conversationController(deps.conversations);
  const messages = messageController(deps.messages);
  const router = Router();

  // Authenticate before reading bodies: strangers' payloads are not parsed at all.
  router.use(requestContextMiddleware, deps.metrics.httpTimer, authenticate(deps.verifier), ...jsonBody(deps.maxJsonBytes));

  router.post('/send', validate({ body: sendMessageSchema }), messages.send);
  router.post('/conversations', validate({ body: openConversationBody }), conversations.open);
  router.get('/conversations', validate({ query: listConversationsQuery }), conversations.list);
  router.get('/conversations/:id', validate({ params: conversationIdParams }), conversations.get);
  router.get('/conversations/:id/messages', validate({ params: conversationIdParams, query: historyQuery }), messages.history);
  router.post('/conversations/:id/read', validate({ params: conversationIdParams, body: markReadBody }), messages.markRead);
  router.get('/unread-count', conversations.unreadCount);
  router.delete('/messages/:id', validate({ params: messageIdParams }), messages.remove);
  router.get('/search', validate({ query: searchQuery }), messages.search);

  router.use(notFoundHandler);
  router.use(errorHandler(deps.logger));
  return router;
}
