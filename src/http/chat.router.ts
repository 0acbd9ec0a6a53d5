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
import { bodyParsed, jsonBody } from './json-body.middleware';
import { validate } from './validate.middleware';
import { accessLog, requestContextMiddleware } from './request-context.middleware';
import type { ChatMetrics } from '../ops/metrics';
import type { FairUse } from '../limits/fair-use';
import { fairUseMiddleware } from './fair-use.middleware';
import { corsMiddleware } from './cors.middleware';
import type { OriginPolicy } from './origin-policy';
import { apiSecurityHeaders } from './security-headers';
import { webhookAdminController } from '../webhooks/webhook-admin.controller';
import type { WebhookAdminService } from '../webhooks/webhook-admin.service';
import { webhookDeliveriesQuery, webhookDeliveryParams } from '../webhooks/webhook.validators';

/** The one route whose body is multipart, not JSON. */
const UPLOAD_ROUTE = { method: 'POST', path: '/attachments' };

export interface ChatRouterDeps {
  verifier: TokenVerifier;
  fairUse: FairUse;
  conversations: ConversationService;
  messages: MessageService;
  admin: AdminService;
  webhooks: WebhookAdminService;
  attachments: AttachmentService;
  logger: Logger;
  maxJsonBytes: number;
  maxUploadBytes: number;
  /** Where uploads are written while they arrive. */
  uploadSpoolDirectory: string;
  metrics: ChatMetrics;
  originPolicy: OriginPolicy;
}

/** The REST half of the contract, to be mounted at /api/chat. One line per route. */
export function createChatRouter(deps: ChatRouterDeps): Router {
  const conversations = conversationController(deps.conversations);
  const messages = messageController(deps.messages);
  const admin = adminController(deps.admin);
  const webhooks = webhookAdminController(deps.webhooks);
  const attachments = attachmentController(deps.attachments, (principal, work) => deps.fairUse.inLane(principal, work));
  const receiveUpload = uploadMiddleware({
    maxBytes: deps.maxUploadBytes,
    spoolDirectory: deps.uploadSpoolDirectory,
    attachments: deps.attachments,
    inLane: (principal, work) => deps.fairUse.inLane(principal, work),
    logger: deps.logger,
  });
  const requireAdmin = [adminGate(deps.admin), bodyParsed];
  const router = Router();
  // Each user route's fair-use class (API.md, "Fair use"); admin routes are not limited.
  const { limit, admit, lane } = fairUseMiddleware(deps.fairUse);

  // Headers first, so that every answer carries them; origins before authentication, as browsers
  // send preflights without a token.
  router.use(apiSecurityHeaders(), corsMiddleware(deps.originPolicy));
  // Authenticate before reading bodies: strangers' payloads are not parsed at all.
  router.use(requestContextMiddleware, accessLog(deps.logger), deps.metrics.httpTimer, authenticate(deps.verifier), ...jsonBody(deps.maxJsonBytes, UPLOAD_ROUTE));

  router.post('/send', limit('send_message'), validate({ body: sendMessageSchema }), messages.send);
  router.post('/conversations', limit('open_conversation'), validate({ body: openConversationBody }), conversations.open);
  router.get('/conversations', limit('read'), validate({ query: listConversationsQuery }), conversations.list);
  router.get('/conversations/:id', limit('read'), validate({ params: conversationIdParams }), conversations.get);
  router.get('/conversations/:id/messages', limit('read'), validate({ params: conversationIdParams, query: historyQuery }), messages.history);
  router.post('/conversations/:id/read', limit('receipt'), validate({ params: conversationIdParams, body: markReadBody }), messages.markRead);
  router.get('/unread-count', limit('read'), conversations.unreadCount);
  router.delete('/messages/:id', limit('send'), validate({ params: messageIdParams }), messages.remove);
  router.get('/search', limit('read'), validate({ query: searchQuery }), messages.search);
  // The lane is taken once the file is in: a slow upload must not hold up the user's messages.
  router.post(UPLOAD_ROUTE.path, admit('upload'), receiveUpload, lane, attachments.upload);
  // The lane only for the lookup (in the controller): a slow download must not hold it either.
  router.get('/attachments/:id', admit('read'), validate({ params: attachmentIdParams }), attachments.download);

  router.get('/admin/messages', requireAdmin, validate({ query: adminMessagesQuery }), admin.listMessages);
  router.post('/admin/messages/:id/restore', requireAdmin, validate({ params: adminMessageParams, body: reasonBody }), admin.restore);
  router.delete('/admin/messages/:id', requireAdmin, validate({ params: adminMessageParams, body: reasonBody }), admin.purge);
  router.get('/admin/audit-log', requireAdmin, validate({ query: auditLogQuery }), admin.auditLog);
  router.get('/admin/webhooks', requireAdmin, validate({ query: webhookDeliveriesQuery }), webhooks.list);
  router.post('/admin/webhooks/:id/retry', requireAdmin, validate({ params: webhookDeliveryParams }), webhooks.retry);

  router.use(notFoundHandler);
  router.use(errorHandler(deps.logger));
  return router;
}
