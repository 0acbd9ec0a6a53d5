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
import { adminController } from '../admin/admin.controller';
import { attachmentController } from '../attachments/attachment.controller';
import type { AttachmentService } from '../attachments/attachment.service';
import { attachmentIdParams } from '../attachments/attachment.validators';
import { uploadMiddleware } from '../attachments/upload.middleware';
import type { AdminService } from '../admin/admin.service';
import { adminMessageParams, adminMessagesQuery, auditLogQuery, reasonBody } from '../admin/admin.validators';
import { adminGate, authenticate } from './auth.middleware';
import { errorHandler, notFoundHandler } from './error-handler';
import { jsonBody } from './json-body.middleware';
import { validate } from './validate.middleware';
import { accessLog, requestContextMiddleware } from './request-context.middleware';
import type { ChatMetrics } from '../ops/metrics';

export interface ChatRouterDeps {
  verifier: TokenVerifier;
  conversations: ConversationService;
  messages: MessageService;
  admin: AdminService;
  attachments: AttachmentService;
  logger: Logger;
  maxJsonBytes: number;
  maxUploadBytes: number;
  metrics: ChatMetrics;
}

/** The REST half of the contract, to be mounted at /api/chat. One line per route. */
export function createChatRouter(deps: ChatRouterDeps): Router {
  const conversations = conversationController(deps.conversations);
  const messages = messageController(deps.messages);
  const admin = adminController(deps.admin);
  const attachments = attachmentController(deps.attachments);
  const requireAdmin = adminGate(deps.admin);
  const router = Router();

  // Authenticate before reading bodies: strangers' payloads are not parsed at all.
  router.use(requestContextMiddleware, accessLog(deps.logger), deps.metrics.httpTimer, authenticate(deps.verifier), ...jsonBody(deps.maxJsonBytes));

  router.post('/send', validate({ body: sendMessageSchema }), messages.send);
  router.post('/conversations', validate({ body: openConversationBody }), conversations.open);
  router.get('/conversations', validate({ query: listConversationsQuery }), conversations.list);
  router.get('/conversations/:id', validate({ params: conversationIdParams }), conversations.get);
  router.get('/conversations/:id/messages', validate({ params: conversationIdParams, query: historyQuery }), messages.history);
  router.post('/conversations/:id/read', validate({ params: conversationIdParams, body: markReadBody }), messages.markRead);
  router.get('/unread-count', conversations.unreadCount);
  router.delete('/messages/:id', validate({ params: messageIdParams }), messages.remove);
  router.get('/search', validate({ query: searchQuery }), messages.search);
  router.post('/attachments', uploadMiddleware(deps.maxUploadBytes), attachments.upload);
  router.get('/attachments/:id', validate({ params: attachmentIdParams }), attachments.download);

  router.get('/admin/messages', requireAdmin, validate({ query: adminMessagesQuery }), admin.listMessages);
  router.post('/admin/messages/:id/restore', requireAdmin, validate({ params: adminMessageParams, body: reasonBody }), admin.restore);
  router.delete('/admin/messages/:id', requireAdmin, validate({ params: adminMessageParams, body: reasonBody }), admin.purge);
  router.get('/admin/audit-log', requireAdmin, validate({ query: auditLogQuery }), admin.auditLog);

  router.use(notFoundHandler);
  router.use(errorHandler(deps.logger));
  return router;
}
