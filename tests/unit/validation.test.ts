import type { Schema } from 'express-validator';
import { adminMessageParams, adminMessagesQuery, auditLogQuery, reasonBody } from '../../src/admin/admin.validators';
import { attachmentIdParams } from '../../src/attachments/attachment.validators';
import {
  conversationIdParams,
  conversationRefSchema,
  listConversationsQuery,
  openConversationBody,
} from '../../src/conversations/conversation.validators';
import {
  deleteMessageSchema,
  deliveredSchema,
  historyQuery,
  markAsReadSchema,
  markReadBody,
  messageIdParams,
  searchQuery,
  sendMessageSchema,
} from '../../src/messages/message.validators';
import { onlineStatusSchema } from '../../src/presence/presence.validators';
import { AppError } from '../../src/shared/errors';
import { choiceField, compiledFor, type InputLocation, validateFields, validateInput, validatePayload } from '../../src/shared/validation';

/** What a validation came to: the sanitised input, or the error a client would see. */
async function outcome(run: () => unknown): Promise<unknown> {
  try {
    return { input: await run() };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, message: err.message, details: err.details };
  }
}

const long = (n: number) => 'x'.repeat(n);

/** Values a client might put in any field: valid, absent, null, wrong types, out of range. */
const VALUES: unknown[] = [
  undefined, null, 1, 42, '42', 2_147_483_647, 2_147_483_648, Number.MAX_SAFE_INTEGER, 0, -3, 1.5, '1.5', '007', '', ' 5',
  'hello', 'nul\u0000', 'cut \ud83d', '\udc00', 'pair \ud83d\ude00', long(100), long(101), long(600), true, false, [], [1], {}, { id: 1 }, NaN, Infinity,
  'only', ['only', 'exclude'], ['only'],
];

/**
 * Socket payloads and REST input are checked by plain code compiled from the express-validator
 * schemas' field rules (src/shared/validation.ts). The two engines must agree on every input.
 */
describe('compiled input checks', () => {
  const compiledSchemas: [string, Schema, InputLocation][] = [
    ['send_message', sendMessageSchema, 'body'],
    ['conversation ref', conversationRefSchema, 'body'],
    ['mark_as_read', markAsReadSchema, 'body'],
    ['message_delivered', deliveredSchema, 'body'],
    ['delete_message', deleteMessageSchema, 'body'],
    ['open conversation', openConversationBody, 'body'],
    ['mark read body', markReadBody, 'body'],
    ['reason', reasonBody, 'body'],
    ['history query', historyQuery, 'query'],
    ['conversation list query', listConversationsQuery, 'query'],
    ['search query', searchQuery, 'query'],
    ['audit log query', auditLogQuery, 'query'],
    ['conversation id', conversationIdParams, 'params'],
    ['message id', messageIdParams, 'params'],
    ['attachment id', attachmentIdParams, 'params'],
    ['admin message id', adminMessageParams, 'params'],
    ['a choice of words', { deleted: choiceField(['only', 'include', 'exclude'], 'include') }, 'query'],
  ];

  test.each(compiledSchemas)('%s compiles to plain checks', (_name, schema) => {
    expect(compiledFor(schema)).toBeDefined();
  });

  test.each(compiledSchemas)('%s: plain checks and express-validator agree on every value in every field', async (_name, schema, location) => {
    const fields = Object.keys(schema);
    const payloads: Record<string, unknown>[] = [{}, { unknown: 1 }];
    for (const field of fields) {
      for (const value of VALUES) payloads.push({ [field]: value });
    }
    // Every field at once: one valid set, one all-wrong set (several errors, in schema order).
    payloads.push(Object.fromEntries(fields.map((f) => [f, '12'])));
    payloads.push(Object.fromEntries(fields.map((f) => [f, { nested: true }])));
    payloads.push({ ...Object.fromEntries(fields.map((f) => [f, 5])), extra: 'dropped' });

    for (const payload of payloads) {
      // express-validator writes its sanitised values into the object it checks: each engine gets a copy.
      const expected = await outcome(() => validateInput(schema, { ...payload }, location));
      const actual = await outcome(() => validateFields(schema, { ...payload }, location));
      expect({ payload, result: actual }).toEqual({ payload, result: expected });
    }
  });

  test.each([null, 'text', 7, [], [{ conversationId: 1 }]])('a payload that is not an object (%p) is refused alike', async (payload) => {
    const expected = await outcome(() => validateInput(sendMessageSchema, payload, 'body'));
    expect(expected).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await outcome(() => validatePayload(sendMessageSchema, payload))).toEqual(expected);
  });

  test.each([
    ['admin messages query', adminMessagesQuery],
    ['online status', onlineStatusSchema],
  ])('%s has rules of its own (allowed values, dates, wildcards) and is not compiled', (_name, schema) => {
    expect(compiledFor(schema)).toBeUndefined();
  });

  test('a schema that is not compiled runs through express-validator', async () => {
    expect(await outcome(() => validatePayload(onlineStatusSchema, { userIds: [1, 'x'] }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'userIds[1]' }],
    });
    expect(await outcome(() => validatePayload(onlineStatusSchema, { userIds: [1, '2'] }))).toEqual({ input: { userIds: [1, 2] } });
  });

  test('the compiled check sanitises like the REST schema', async () => {
    expect(await validatePayload(sendMessageSchema, { receiverId: '7', content: 'hi', clientMessageId: null, extra: 1 })).toEqual({
      receiverId: 7,
      content: 'hi',
    });
    await expect(Promise.resolve().then(() => validatePayload(sendMessageSchema, { receiverId: 0, content: 5 }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'receiverId must be a positive integer id when given; content must be a string',
    });
  });
});
