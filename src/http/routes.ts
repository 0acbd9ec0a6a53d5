import { adminMessageParams, adminMessagesQuery, auditLogQuery, reasonBody } from '../admin/admin.validators';
import { attachmentIdParams } from '../attachments/attachment.validators';
import { conversationIdParams, listConversationsQuery, openConversationBody } from '../conversations/conversation.validators';
import { historyQuery, markReadBody, messageIdParams, searchQuery, sendMessageFields } from '../messages/message.validators';
import type { ErrorCode } from '../shared/errors';
import { webhookDeliveriesQuery, webhookDeliveryParams } from '../webhooks/webhook.validators';
import type { Fields } from '../shared/fields';
import type { BodyName } from './openapi/response-schemas';

/** What one answer of a route carries: a named JSON body, the file's bytes, or nothing. */
export interface ResponseSpec {
  description: string;
  body?: BodyName | 'bytes';
}

/**
 * One REST route of the contract, as data: the router mounts it with these fields' validation
 * (src/http/chat.router.ts) and the OpenAPI document describes it from the same object
 * (src/http/openapi/document.ts), so neither can say something the other does not.
 */
export interface RouteSpec {
  operationId: string;
  method: 'get' | 'post' | 'delete';
  /** Express form, under /api/chat. */
  path: string;
  summary: string;
  tag: 'Messages' | 'Conversations' | 'Attachments' | 'Admin';
  /** admin: a token with the admin role; user: any valid token of a host user. */
  access: 'user' | 'admin';
  params?: Fields;
  query?: Fields;
  body?: Fields;
  /** The body is multipart/form-data with one file, not JSON. */
  upload?: true;
  responses: Record<number, ResponseSpec>;
  /** The errors this route answers besides those every route may (400, 401, 413, 415, 500, 503; 429 or 403). */
  errors?: ErrorCode[];
}

const route = <R extends RouteSpec>(spec: R): R => spec;

export const ROUTES = {
  send: route({
    operationId: 'sendMessage',
    method: 'post',
    path: '/send',
    summary: "Send a message; the pair's conversation is made on the first one. A clientMessageId already used by the sender returns the stored message (200).",
    tag: 'Messages',
    access: 'user',
    body: sendMessageFields,
    responses: { 201: { description: 'Stored', body: 'sent' }, 200: { description: 'A retry: the message stored before', body: 'sent' } },
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
  openConversation: route({
    operationId: 'openConversation',
    method: 'post',
    path: '/conversations',
    summary: 'Open the conversation with a user: one per pair, ever',
    tag: 'Conversations',
    access: 'user',
    body: openConversationBody,
    responses: { 201: { description: 'Made', body: 'conversation' }, 200: { description: 'It existed', body: 'conversation' } },
    errors: ['NOT_FOUND'],
  }),
  listConversations: route({
    operationId: 'listConversations',
    method: 'get',
    path: '/conversations',
    summary: "The caller's conversations, newest activity first",
    tag: 'Conversations',
    access: 'user',
    query: listConversationsQuery,
    responses: { 200: { description: 'A page', body: 'conversationPage' } },
  }),
  getConversation: route({
    operationId: 'getConversation',
    method: 'get',
    path: '/conversations/:id',
    summary: 'One conversation as the caller sees it',
    tag: 'Conversations',
    access: 'user',
    params: conversationIdParams,
    responses: { 200: { description: 'The conversation', body: 'conversation' } },
    errors: ['NOT_FOUND'],
  }),
  history: route({
    operationId: 'listMessages',
    method: 'get',
    path: '/conversations/:id/messages',
    summary: 'A page of history, oldest first: the newest without a cursor, `before` to page back, `after` to catch up',
    tag: 'Messages',
    access: 'user',
    params: conversationIdParams,
    query: historyQuery,
    responses: { 200: { description: 'A page', body: 'history' } },
    errors: ['NOT_FOUND'],
  }),
  markRead: route({
    operationId: 'markRead',
    method: 'post',
    path: '/conversations/:id/read',
    summary: 'Mark what the caller received (up to an id) as read, and as delivered where it was not',
    tag: 'Messages',
    access: 'user',
    params: conversationIdParams,
    body: markReadBody,
    responses: { 200: { description: 'Marked', body: 'readMark' } },
    errors: ['NOT_FOUND'],
  }),
  unreadCount: route({
    operationId: 'unreadCount',
    method: 'get',
    path: '/unread-count',
    summary: "The caller's unread messages, in all and per conversation (only those above 0)",
    tag: 'Conversations',
    access: 'user',
    responses: { 200: { description: 'The counts', body: 'unreadCounts' } },
  }),
  deleteMessage: route({
    operationId: 'deleteMessage',
    method: 'delete',
    path: '/messages/:id',
    summary: 'Soft-delete a message the caller sent',
    tag: 'Messages',
    access: 'user',
    params: messageIdParams,
    responses: { 204: { description: 'Deleted' } },
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  }),
  search: route({
    operationId: 'searchMessages',
    method: 'get',
    path: '/search',
    summary: "Full-text search over the caller's conversations, newest first",
    tag: 'Messages',
    access: 'user',
    query: searchQuery,
    responses: { 200: { description: 'The messages found', body: 'messages' } },
    errors: ['NOT_FOUND'],
  }),
  upload: route({
    operationId: 'uploadAttachment',
    method: 'post',
    path: '/attachments',
    summary: 'Upload a file to send (multipart, field `file`); its type is decided from its bytes',
    tag: 'Attachments',
    access: 'user',
    upload: true,
    responses: { 201: { description: 'Stored', body: 'attachment' } },
    errors: ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'],
  }),
  download: route({
    operationId: 'downloadAttachment',
    method: 'get',
    path: '/attachments/:id',
    summary: "An attachment's bytes: for its uploader and the participants of the conversation it was sent in",
    tag: 'Attachments',
    access: 'user',
    params: attachmentIdParams,
    responses: { 200: { description: 'The bytes, with their type', body: 'bytes' } },
    errors: ['NOT_FOUND'],
  }),
  adminMessages: route({
    operationId: 'adminListMessages',
    method: 'get',
    path: '/admin/messages',
    summary: 'Messages with their deletion (deleted ones included by default), newest first',
    tag: 'Admin',
    access: 'admin',
    query: adminMessagesQuery,
    responses: { 200: { description: 'A page', body: 'adminMessages' } },
  }),
  adminRestore: route({
    operationId: 'adminRestoreMessage',
    method: 'post',
    path: '/admin/messages/:id/restore',
    summary: 'Make a soft-deleted message visible again',
    tag: 'Admin',
    access: 'admin',
    params: adminMessageParams,
    body: reasonBody,
    responses: { 200: { description: 'Restored', body: 'adminMessage' } },
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
  adminPurge: route({
    operationId: 'adminPurgeMessage',
    method: 'delete',
    path: '/admin/messages/:id',
    summary: 'Erase a message for good, attachment bytes too',
    tag: 'Admin',
    access: 'admin',
    params: adminMessageParams,
    body: reasonBody,
    responses: { 204: { description: 'Purged' } },
    errors: ['NOT_FOUND'],
  }),
  auditLog: route({
    operationId: 'adminAuditLog',
    method: 'get',
    path: '/admin/audit-log',
    summary: 'The audit log, newest first',
    tag: 'Admin',
    access: 'admin',
    query: auditLogQuery,
    responses: { 200: { description: 'A page', body: 'auditLog' } },
  }),
  webhookDeliveries: route({
    operationId: 'adminListWebhookDeliveries',
    method: 'get',
    path: '/admin/webhooks',
    summary: 'Webhook deliveries, newest first',
    tag: 'Admin',
    access: 'admin',
    query: webhookDeliveriesQuery,
    responses: { 200: { description: 'A page', body: 'webhookDeliveries' } },
  }),
  webhookRetry: route({
    operationId: 'adminRetryWebhookDelivery',
    method: 'post',
    path: '/admin/webhooks/:id/retry',
    summary: 'Queue a failed or delivered webhook event again, with the same webhook-id',
    tag: 'Admin',
    access: 'admin',
    params: webhookDeliveryParams,
    responses: { 200: { description: 'Queued again', body: 'webhookDelivery' } },
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
} satisfies Record<string, RouteSpec>;
