import type { Schema } from 'express-validator';
import { MAX_BIGINT_ID, MAX_INT_ID } from '../shared/ids';
import { choiceField, idField, limitField, stringField } from '../shared/validation';

/** A date or date-time in ISO-8601 form; Date.parse alone would also take "1" (year 2001) or "May 3". */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

const isoTime = {
  optional: { options: { values: 'null' as const } },
  custom: { options: (value: unknown) => typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value)) },
  customSanitizer: { options: (value: unknown) => new Date(String(value)) },
  errorMessage: 'must be an ISO-8601 time',
};

export const adminMessagesQuery: Schema = {
  deleted: choiceField(['only', 'include', 'exclude'], 'include'),
  conversationId: idField(MAX_INT_ID, { optional: true }),
  senderId: idField(MAX_INT_ID, { optional: true }),
  since: isoTime,
  until: isoTime,
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
