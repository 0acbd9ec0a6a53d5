import type { Schema } from 'express-validator';
import { MAX_BIGINT_ID, MAX_INT_ID } from '../shared/ids';
import { idField, limitField, stringField } from '../shared/validation';

/** Input schemas for message commands; REST routes and socket events share them. */
export const sendMessageSchema: Schema = {
  receiverId: idField(MAX_INT_ID, { optional: true }),
  conversationId: idField(MAX_INT_ID, { optional: true }),
  // The length limit in code points is a business rule (message-rules.ts); this only rejects non-strings.
  content: stringField({ optional: true }),
  clientMessageId: stringField({ optional: true, minLength: 1, maxLength: 100 }),
  attachmentId: idField(MAX_BIGINT_ID, { optional: true }),
};

export const messageIdParams: Schema = { id: idField(MAX_BIGINT_ID) };

export const deleteMessageSchema: Schema = { messageId: idField(MAX_BIGINT_ID) };

export const historyQuery: Schema = {
  limit: limitField(50, 100),
  before: idField(MAX_BIGINT_ID, { optional: true }),
  after: idField(MAX_BIGINT_ID, { optional: true }),
};

export const markReadBody: Schema = { upToMessageId: idField(MAX_BIGINT_ID, { optional: true }) };

export const markAsReadSchema: Schema = { conversationId: idField(MAX_INT_ID), ...markReadBody };

export const deliveredSchema: Schema = {
  conversationId: idField(MAX_INT_ID),
  upToMessageId: idField(MAX_BIGINT_ID),
};

export const searchQuery: Schema = {
  q: stringField({ maxLength: 500 }),
  conversationId: idField(MAX_INT_ID, { optional: true }),
  limit: limitField(20, 100),
};

export interface SendMessageInput {
  receiverId?: number;
  conversationId?: number;
  content?: string;
  clientMessageId?: string;
  attachmentId?: number;
}
