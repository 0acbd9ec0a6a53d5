import { ERROR_STATUS } from '../../shared/errors';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/webhook-events';
import { DELIVERY_STATUSES } from '../../webhooks/webhook-outbox.repository';

/**
 * The JSON Schemas of what Duet answers (API.md, "Shapes"), for the OpenAPI document's
 * components. Objects are closed (additionalProperties: false), so a field the document does not
 * name fails the suite's check of every response (tests/helpers/openapi-check.ts).
 */
export type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });
const id: JsonSchema = { type: 'integer', minimum: 1 };
const time: JsonSchema = { type: 'string', format: 'date-time' };
const count: JsonSchema = { type: 'integer', minimum: 0 };

function object(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { type: 'object', ...(description && { description }), properties, required: Object.keys(properties), additionalProperties: false };
}

const MESSAGE_FIELDS = {
  id,
  conversationId: id,
  senderId: id,
  receiverId: id,
  content: { type: 'string', description: "'' when the message is only an attachment" },
  attachment: nullable(ref('Attachment')),
  clientMessageId: { type: ['string', 'null'], description: 'null when the client sent none' },
  deliveredAt: { ...nullable(time), description: "when a receiver's device confirmed it" },
  isRead: { type: 'boolean' },
  readAt: nullable(time),
  createdAt: time,
  updatedAt: time,
};

export const RESPONSE_SCHEMAS: Record<string, JsonSchema> = {
  Error: object(
    {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
          message: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              properties: { field: { type: 'string' }, location: { type: 'string' }, message: { type: 'string' } },
              required: ['message'],
              additionalProperties: false,
            },
          },
          retryAfterMs: { type: 'integer', minimum: 0, description: 'with RATE_LIMITED: when to try again (also the Retry-After header, in seconds)' },
        },
        required: ['code', 'message'],
        additionalProperties: false,
      },
    },
    'The error envelope of every failure',
  ),
  Attachment: object({ id, name: { type: 'string' }, mimeType: { type: 'string' }, size: count, url: { type: 'string', description: 'needs the bearer token' } }),
  Message: object(MESSAGE_FIELDS),
  AdminMessage: object({ ...MESSAGE_FIELDS, deletedAt: nullable(time), deletedBy: nullable(id) }, 'A message with its deletion, for admins'),
  Participant: object({ id, name: { type: ['string', 'null'] }, avatarUrl: { type: ['string', 'null'] } }, 'The other user of a conversation'),
  Conversation: object(
    {
      id,
      participantIds: { type: 'array', items: id, minItems: 2, maxItems: 2 },
      participant: ref('Participant'),
      lastMessage: nullable(ref('Message')),
      lastMessageAt: nullable(time),
      unreadCount: count,
      createdAt: time,
    },
    'A conversation as the requesting user sees it',
  ),
  WebhookDelivery: object(
    {
      id: { type: 'string', format: 'uuid', description: "the event's webhook-id" },
      type: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
      status: { type: 'string', enum: [...DELIVERY_STATUSES] },
      attempts: count,
      lastError: { type: ['string', 'null'] },
      createdAt: time,
      deliveredAt: nullable(time),
    },
    'One webhook event and how its delivery went',
  ),
  AuditEntry: object({
    id,
    action: { type: 'string', enum: ['message.deleted', 'message.restored', 'message.purged'] },
    actorId: { type: 'integer', minimum: 0, description: '0: Duet itself (retention)' },
    messageId: id,
    conversationId: id,
    at: time,
    reason: { type: ['string', 'null'] },
  }),
};

/** Response bodies, by name, built from the components above. */
export const BODIES = {
  sent: object({ message: ref('Message'), conversation: ref('Conversation') }),
  conversation: object({ conversation: ref('Conversation') }),
  conversationPage: object({ conversations: { type: 'array', items: ref('Conversation') }, nextCursor: { type: ['string', 'null'], description: 'opaque; null at the end' } }),
  history: object({ messages: { type: 'array', items: ref('Message') }, hasMore: { type: 'boolean' } }),
  readMark: object({ conversationId: id, readAt: time, count }),
  unreadCounts: object({ total: count, conversations: { type: 'array', items: object({ conversationId: id, unreadCount: { type: 'integer', minimum: 1 } }) } }),
  messages: object({ messages: { type: 'array', items: ref('Message') } }),
  attachment: object({ attachment: ref('Attachment') }),
  adminMessages: object({ messages: { type: 'array', items: ref('AdminMessage') } }),
  adminMessage: object({ message: ref('AdminMessage') }),
  auditLog: object({ entries: { type: 'array', items: ref('AuditEntry') } }),
  webhookDeliveries: object({ deliveries: { type: 'array', items: ref('WebhookDelivery') } }),
  webhookDelivery: object({ delivery: ref('WebhookDelivery') }),
} satisfies Record<string, JsonSchema>;

export type BodyName = keyof typeof BODIES;
