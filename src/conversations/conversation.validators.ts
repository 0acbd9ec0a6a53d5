import type { Schema } from 'express-validator';
import { MAX_INT_ID } from '../shared/ids';
import { idField, limitField, stringField } from '../shared/validation';

/** Input schemas for conversation commands; REST routes and socket events share them. */
export const openConversationBody: Schema = { participantId: idField(MAX_INT_ID) };

export const conversationIdParams: Schema = { id: idField(MAX_INT_ID) };

export const conversationRefSchema: Schema = { conversationId: idField(MAX_INT_ID) };

export const listConversationsQuery: Schema = {
  limit: limitField(20, 100),
  cursor: stringField({ optional: true, minLength: 1, maxLength: 200 }),
};
