import { adminMessagesQuery } from '../../src/admin/admin.validators';
import { conversationIdParams, listConversationsQuery } from '../../src/conversations/conversation.validators';
import { historyQuery, searchQuery, sendMessageFields } from '../../src/messages/message.validators';
import { onlineStatusFields } from '../../src/presence/presence.validators';
import { MAX_BIGINT_ID, MAX_INT_ID } from '../../src/shared/ids';
import { toJsonSchema, toParameters } from '../../src/shared/validation';

const id = (max: number) => ({ type: 'integer', minimum: 1, maximum: max, description: 'A positive integer id (a decimal string is taken too)' });

/** The JSON Schema (OpenAPI 3.1) that issue 16's document is built from comes from the same field definitions. */
describe('JSON Schema of the input fields', () => {
  test('a body lists its fields in order, and only those without a default or optional flag as required', () => {
    expect(toJsonSchema(sendMessageFields)).toEqual({
      type: 'object',
      properties: {
        receiverId: id(MAX_INT_ID),
        conversationId: id(MAX_INT_ID),
        content: { type: 'string' },
        clientMessageId: { type: 'string', minLength: 1, maxLength: 100 },
        attachmentId: id(MAX_BIGINT_ID),
      },
      required: [],
    });
    expect(Object.keys(toJsonSchema(sendMessageFields).properties!)).toEqual(Object.keys(sendMessageFields));
  });

  test('a list of ids is an array with a bound and an item schema', () => {
    expect(toJsonSchema(onlineStatusFields)).toEqual({
      type: 'object',
      properties: { userIds: { type: 'array', maxItems: 100, items: id(MAX_INT_ID) } },
      required: ['userIds'],
    });
  });

  test('defaults, choices, lengths and times', () => {
    const { properties } = toJsonSchema(adminMessagesQuery);
    expect(properties!.deleted).toEqual({ type: 'string', enum: ['only', 'include', 'exclude'], default: 'include' });
    expect(properties!.since).toEqual({ type: 'string', format: 'date-time', description: 'An ISO-8601 date-time (a date alone is taken too)' });
    // A larger limit is capped, not refused: no maximum.
    expect(properties!.limit).toEqual({ type: 'integer', minimum: 1, default: 50, description: 'A page size; above 100 counts as 100' });
    expect(toJsonSchema(listConversationsQuery).properties!.cursor).toEqual({ type: 'string', minLength: 1, maxLength: 200 });
  });

  test('query and path parameters, one schema each', () => {
    expect(toParameters(conversationIdParams, 'params')).toEqual([{ name: 'id', in: 'path', required: true, schema: id(MAX_INT_ID) }]);
    expect(toParameters(historyQuery, 'query').map(({ name, required }) => [name, required])).toEqual([
      ['limit', false],
      ['before', false],
      ['after', false],
    ]);
    expect(toParameters(searchQuery, 'query')[0]).toEqual({ name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: 500 } });
  });
});
