import { idField, limitField, stringField } from '../shared/fields';
import { MAX_INT_ID } from '../shared/ids';

/** Input fields of conversation commands; REST routes and socket events share them (src/shared/fields.ts). */
export const openConversationBody = { participantId: idField(MAX_INT_ID) };

export const conversationIdParams = { id: idField(MAX_INT_ID) };

export const conversationRefFields = { conversationId: idField(MAX_INT_ID) };

export const listConversationsQuery = {
  limit: limitField(20, 100),
  cursor: stringField({ optional: true, minLength: 1, maxLength: 200 }),
};
