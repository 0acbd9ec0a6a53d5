import { type RequestHandler, Router } from 'express';
import type { TokenVerifier } from '../auth/token-verifier';
import { conversationController } from '../conversations/conversation.controller';
import type { ConversationService } from '../conversations/conversation.service';
import { messageController } from '../messages/message.controller';
import type { MessageService } from '../messages/message.service';
import type { Logger } from '../shared/logger';
import { adminController } from '../admin/admin.controller';
import { attachmentController } from '../attachments/attachment.controller';
import type { AttachmentService } from '../attachments/attachment.service';
import { uploadMiddleware } from '../attachments/upload.middleware';
import type { AdminService } from '../admin/admin.service';
import { adminGate, authenticate } from './auth.middleware';
import { errorHandler, notFoundHandler } from './error-handler';
import { bodyParsed, jsonBody } from './json-body.middleware';
import { validate } from './validate.middleware';
import { ROUTES, type RouteSpec } from './routes';
import { openApiDocumentHandler } from './openapi/document';
import { accessLog, requestContextMiddleware } from './request-context.middleware';
import type { ChatMetrics } from '../ops/metrics';
import type { FairUse } from '../limits/fair-use';
import { fairUseMiddleware } from './fair-use.middleware';
import { corsMiddleware } from './cors.middleware';
import type { OriginPolicy } from './origin-policy';
import { apiSecurityHeaders } from './security-headers';
import { webhookAdminController } from '../webhooks/webhook-admin.controller';
import type { WebhookAdminService } from '../webhooks/webhook-admin.service';

/** The one route whose body is multipart, not JSON. */
const UPLOAD_ROUTE = { method: ROUTES.upload.method.toUpperCase(), path: ROUTES.upload.path };

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
  // The API's description needs no token (API.md, "OpenAPI and a typed client").
  router.get('/openapi.json', openApiDocumentHandler(Object.values(ROUTES)));
  // Authenticate before reading bodies: strangers' payloads are not parsed at all.
  router.use(requestContextMiddleware, accessLog(deps.logger), deps.metrics.httpTimer, authenticate(deps.verifier), ...jsonBody(deps.maxJsonBytes, UPLOAD_ROUTE));

  /** Mounts a route of the table: its path and method, the given handlers, its fields' validation, then the controller. */
  const on = (spec: RouteSpec, before: (RequestHandler | RequestHandler[])[], handler: RequestHandler) => {
    const validation = spec.params || spec.query || spec.body ? [validate(spec)] : [];
    router[spec.method](spec.path, ...before.flat(), ...validation, handler);
  };

  on(ROUTES.send, [limit('send_message')], messages.send);
  on(ROUTES.openConversation, [limit('open_conversation')], conversations.open);
  on(ROUTES.listConversations, [limit('read')], conversations.list);
  on(ROUTES.getConversation, [limit('read')], conversations.get);
  on(ROUTES.history, [limit('read')], messages.history);
  on(ROUTES.markRead, [limit('receipt')], messages.markRead);
  on(ROUTES.unreadCount, [limit('read')], conversations.unreadCount);
  on(ROUTES.deleteMessage, [limit('send')], messages.remove);
  on(ROUTES.search, [limit('read')], messages.search);
  // The lane is taken once the file is in: a slow upload must not hold up the user's messages.
  on(ROUTES.upload, [admit('upload'), receiveUpload, lane], attachments.upload);
  // The lane only for the lookup (in the controller): a slow download must not hold it either.
  on(ROUTES.download, [admit('read')], attachments.download);

  on(ROUTES.adminMessages, requireAdmin, admin.listMessages);
  on(ROUTES.adminRestore, requireAdmin, admin.restore);
  on(ROUTES.adminPurge, requireAdmin, admin.purge);
  on(ROUTES.auditLog, requireAdmin, admin.auditLog);
  on(ROUTES.webhookDeliveries, requireAdmin, webhooks.list);
  on(ROUTES.webhookRetry, requireAdmin, webhooks.retry);

  router.use(notFoundHandler);
  router.use(errorHandler(deps.logger));
  return router;
}
