import type { Schema } from 'express-validator';
import { MAX_BIGINT_ID, MAX_INT_ID } from '../shared/ids';
import { idField, limitField, stringField } from '../shared/validation';

const isoTime = (name: string) => ({
  optional: { options: { values: 'null' as const } },
  custom: { options: (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value)) },
  customSanitizer: { options: (value: unknown) => new Date(String(value)) },
  errorMessage: `${name} must be an ISO-8601 time`,
});

export const adminMessagesQuery: Schema = {
  deleted: {
    default: { options: 'include' },
    isIn: { options: [['only', 'include', 'exclude']] },
    errorMessage: 'must be only, include or exclude',
  },
  conversationId: idField(MAX_INT_ID, { optional: true }),
  senderId: idField(MAX_INT_ID, { optional: true }),
  since: isoTime('since'),
  until: isoTime('until'),
  before: idField(MAX_BIGINT_ID, { optional: true }),
  limit: limitField(50, 100),
};

export const auditLogQuery: Schema = {
  messageId: idField(MAX_BIGINT_ID, { optional: true }),
  actorId: idField(MAX_INT_ID, { optional: true }),
  before: idField(MAX_BIGINT_ID, { optional: true }),
  limit: limitField(50, 100),
};

export const adminMessageParams: Schema = { id: idField(MAX_BIGINT_ID) };

export const reasonBody: Schema = { reason: stringField({ optional: true, maxLength: 500 }) };
