import { type Input, idField, limitField, stringField } from '../shared/fields';
import { MAX_BIGINT_ID, MAX_INT_ID } from '../shared/ids';

/** Input fields of message commands; REST routes and socket events share them (src/shared/fields.ts). */
export const sendMessageFields = {
  receiverId: idField(MAX_INT_ID, { optional: true }),
  conversationId: idField(MAX_INT_ID, { optional: true }),
  // The length limit in code points is a business rule (message-rules.ts); this only rejects non-strings.
  content: stringField({ optional: true }),
  clientMessageId: stringField({ optional: true, minLength: 1, maxLength: 100 }),
  attachmentId: idField(MAX_BIGINT_ID, { optional: true }),
};

export const messageIdParams = { id: idField(MAX_BIGINT_ID) };

export const deleteMessageFields = { messageId: idField(MAX_BIGINT_ID) };

export const historyQuery = {
  limit: limitField(50, 100),
  before: idField(MAX_BIGINT_ID, { optional: true }),
  after: idField(MAX_BIGINT_ID, { optional: true }),
};

export const markReadBody = { upToMessageId: idField(MAX_BIGINT_ID, { optional: true }) };

export const markAsReadFields = { conversationId: idField(MAX_INT_ID), ...markReadBody };

export const deliveredFields = {
  conversationId: idField(MAX_INT_ID),
  upToMessageId: idField(MAX_BIGINT_ID),
};

export const searchQuery = {
  q: stringField({ maxLength: 500 }),
  conversationId: idField(MAX_INT_ID, { optional: true }),
  limit: limitField(20, 100),
};

export type SendMessageInput = Input<typeof sendMessageFields>;
