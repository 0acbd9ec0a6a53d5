import { choiceField, idField, limitField, stringField, timeField } from '../shared/fields';
import { MAX_BIGINT_ID, MAX_INT_ID } from '../shared/ids';

export const adminMessagesQuery = {
  deleted: choiceField(['only', 'include', 'exclude'], 'include'),
  conversationId: idField(MAX_INT_ID, { optional: true }),
  senderId: idField(MAX_INT_ID, { optional: true }),
  since: timeField({ optional: true }),
  until: timeField({ optional: true }),
  before: idField(MAX_BIGINT_ID, { optional: true }),
  limit: limitField(50, 100),
};

export const auditLogQuery = {
  messageId: idField(MAX_BIGINT_ID, { optional: true }),
  actorId: idField(MAX_INT_ID, { optional: true }),
  before: idField(MAX_BIGINT_ID, { optional: true }),
  limit: limitField(50, 100),
};

export const adminMessageParams = { id: idField(MAX_BIGINT_ID) };

export const reasonBody = { reason: stringField({ optional: true, maxLength: 500 }) };
