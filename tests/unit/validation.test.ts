import { adminMessageParams, adminMessagesQuery, auditLogQuery, reasonBody } from '../../src/admin/admin.validators';
import { attachmentIdParams } from '../../src/attachments/attachment.validators';
import {
  conversationIdParams,
  conversationRefFields,
  listConversationsQuery,
  openConversationBody,
} from '../../src/conversations/conversation.validators';
import {
  deleteMessageFields,
  deliveredFields,
  historyQuery,
  markAsReadFields,
  markReadBody,
  messageIdParams,
  searchQuery,
  sendMessageFields,
} from '../../src/messages/message.validators';
import { onlineStatusFields } from '../../src/presence/presence.validators';
import { AppError } from '../../src/shared/errors';
import { choiceField, type Fields } from '../../src/shared/fields';
import { checkFields, checkWithExpressValidator, type InputLocation, validatePayload } from '../../src/shared/validation';

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
  'only', ['only', 'exclude'], ['only'], '2026-12-01', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00.123+01:00', '2026-13-45', 'May 3', '1',
  [1, 'x', 0, '3'], [[1]], [null], { 0: 1 }, { a: 'x' }, Array.from({ length: 101 }, (_, i) => i + 1), [...Array.from({ length: 101 }, (_, i) => i + 1), 'x'],
];

/**
 * REST input runs through express-validator over a schema generated from the fields; socket
 * payloads through a plain loop over the same parse functions (src/shared/validation.ts). The rules
 * are shared, so what this holds apart is how each engine applies them: absent and null values,
 * defaults, sanitised values, list items, which fields come back and the order of the errors.
 */
describe('the REST and socket doors agree', () => {
  const everyInput: [string, Fields, InputLocation][] = [
    ['send_message', sendMessageFields, 'body'],
    ['conversation ref', conversationRefFields, 'body'],
    ['mark_as_read', markAsReadFields, 'body'],
    ['message_delivered', deliveredFields, 'body'],
    ['delete_message', deleteMessageFields, 'body'],
    ['get_online_status', onlineStatusFields, 'body'],
    ['open conversation', openConversationBody, 'body'],
    ['mark read body', markReadBody, 'body'],
    ['reason', reasonBody, 'body'],
    ['history query', historyQuery, 'query'],
    ['conversation list query', listConversationsQuery, 'query'],
    ['search query', searchQuery, 'query'],
    ['admin messages query', adminMessagesQuery, 'query'],
    ['audit log query', auditLogQuery, 'query'],
    ['conversation id', conversationIdParams, 'params'],
    ['message id', messageIdParams, 'params'],
    ['attachment id', attachmentIdParams, 'params'],
    ['admin message id', adminMessageParams, 'params'],
  ];

  test.each(everyInput)('%s: express-validator and the plain loop agree on every value in every field', async (_name, fields, location) => {
    const names = Object.keys(fields);
    const payloads: Record<string, unknown>[] = [{}, { unknown: 1 }];
    for (const name of names) {
      for (const value of VALUES) payloads.push({ [name]: value });
    }
    // Every field at once: valid sets, one all-wrong set (several errors, in declaration order).
    payloads.push(Object.fromEntries(names.map((f) => [f, '12'])));
    payloads.push(Object.fromEntries(names.map((f) => [f, { nested: true }])));
    payloads.push({ ...Object.fromEntries(names.map((f) => [f, 5])), extra: 'dropped' });
    payloads.push(Object.fromEntries(names.map((f) => [f, [0, 'x']])));

    for (const payload of payloads) {
      // A list's items are sanitised in place by express-validator: each engine gets its own copy.
      const expected = await outcome(() => checkWithExpressValidator(fields, structuredClone(payload), location));
      const actual = await outcome(() => checkFields(fields, structuredClone(payload), location));
      expect({ payload, result: actual }).toEqual({ payload, result: expected });
    }
  });

  test.each([null, 'text', 7, [], [{ conversationId: 1 }]])('a payload that is not an object (%p) is refused alike', async (payload) => {
    const expected = await outcome(() => checkWithExpressValidator(sendMessageFields, payload, 'body'));
    expect(expected).toMatchObject({ code: 'VALIDATION_FAILED', message: 'The payload must be a JSON object' });
    expect(await outcome(() => validatePayload(sendMessageFields, payload))).toEqual(expected);
  });

  test('errors come in declaration order, a list before its items', async () => {
    const payload = { userIds: [...Array.from({ length: 100 }, (_, i) => i + 1), 'x', 0] };
    const expected = {
      code: 'VALIDATION_FAILED',
      message: 'userIds must be an array of at most 100 user ids; userIds[100] must be a positive integer id; userIds[101] must be a positive integer id',
      details: [
        { field: 'userIds', location: 'body', message: 'must be an array of at most 100 user ids' },
        { field: 'userIds[100]', location: 'body', message: 'must be a positive integer id' },
        { field: 'userIds[101]', location: 'body', message: 'must be a positive integer id' },
      ],
    };
    expect(await outcome(() => checkWithExpressValidator(onlineStatusFields, payload, 'body'))).toEqual(expected);
    expect(await outcome(() => validatePayload(onlineStatusFields, payload))).toEqual(expected);
  });

  test('both doors sanitise: ids from strings, dates, defaults, undeclared fields dropped', async () => {
    const payload = { receiverId: '7', content: 'hi', clientMessageId: null, extra: 1 };
    expect(validatePayload(sendMessageFields, payload)).toEqual({ receiverId: 7, content: 'hi' });
    expect(await checkWithExpressValidator(sendMessageFields, payload, 'body')).toEqual({ receiverId: 7, content: 'hi' });
    expect(payload).toEqual({ receiverId: '7', content: 'hi', clientMessageId: null, extra: 1 });
    expect(await checkWithExpressValidator(adminMessagesQuery, { since: '2026-12-01', limit: '500' }, 'query')).toEqual({
      deleted: 'include',
      since: new Date('2026-12-01'),
      limit: 100,
    });
    expect(() => validatePayload(sendMessageFields, { receiverId: 0, content: 5 })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        message: 'receiverId must be a positive integer id when given; content must be a string',
      }),
    );
  });

  test('a choice of words refuses a repeated query parameter', async () => {
    const fields = { deleted: choiceField(['only', 'include', 'exclude'], 'include') };
    const expected = await outcome(() => checkWithExpressValidator(fields, { deleted: ['only'] }, 'query'));
    expect(expected).toMatchObject({ details: [{ field: 'deleted', message: 'must be only, include or exclude' }] });
    expect(await outcome(() => checkFields(fields, { deleted: ['only'] }, 'query'))).toEqual(expected);
  });
});
