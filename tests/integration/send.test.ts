import type { Sequelize } from 'sequelize';

import { firstSendToBob } from '../helpers/contract';
import { createCast, createUser, historyOf, sendMessage } from '../helpers/factories';
import { bearer, type TestApp, useStartedApp, useTestApp } from '../helpers/test-app';

const MAX_MESSAGE_LENGTH = 4000;

const app = useTestApp();

const send = (on: TestApp, from: number, body: Record<string, unknown>) =>
  on.api().post('/api/chat/send').set(bearer(from)).send(body);

async function countRows(sequelize: Sequelize, table: 'messages' | 'conversations'): Promise<number> {
  const [rows] = await sequelize.query(`SELECT count(*)::int AS n FROM ${table}`);
  return Number((rows as { n: number }[])[0]!.n);
}

async function conversationAs(userId: number, conversationId: number) {
  const res = await app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(userId));
  expect(res.status).toBe(200);
  return res.body.conversation;
}

describe('POST /send', () => {
  test('a first message answers 201 with the full Message and the conversation as the sender sees it', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);

    const res = await send(app(), alice, { receiverId: bob, content: 'hello Bob' });

    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['conversation', 'message']);
    const { message, conversation } = res.body;
    const expected = firstSendToBob(res.body, alice, bob, 'hello Bob');
    expect(message).toEqual(expected.message);
    expect(conversation).toEqual(expected.conversation);
  });

  test('the clientMessageId a sender gives comes back on the message', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const res = await send(app(), alice, { receiverId: bob, content: 'tagged', clientMessageId: 'c0ffee-1' });
    expect(res.status).toBe(201);
    expect(res.body.message.clientMessageId).toBe('c0ffee-1');
  });

  test('the first message creates the pair conversation and later messages reuse it', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const before = await app().api().get('/api/chat/conversations').set(bearer(alice));
    expect(before.body.conversations).toEqual([]);
    expect(await countRows(app().chat.sequelize, 'conversations')).toBe(0);

    const first = await sendMessage(app(), alice, bob, 'one');
    const reply = await sendMessage(app(), bob, alice, 'two');

    expect(reply.message.conversationId).toBe(first.message.conversationId);
    expect(await countRows(app().chat.sequelize, 'conversations')).toBe(1);
    const list = await app().api().get('/api/chat/conversations').set(bearer(alice));
    expect(list.body.conversations.map((c: { id: number }) => c.id)).toEqual([first.message.conversationId]);
  });

  test("each message raises the receiver's unreadCount but not the sender's", async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const first = await sendMessage(app(), alice, bob, 'one');
    const conversationId = first.message.conversationId;
    expect(await conversationAs(bob, conversationId)).toMatchObject({ unreadCount: 1, participant: { id: alice, name: 'Alice' } });

    const second = await sendMessage(app(), alice, bob, 'two');

    expect(second.conversation).toMatchObject({ unreadCount: 0, participant: { id: bob } });
    const bobView = await conversationAs(bob, conversationId);
    expect(bobView).toMatchObject({ unreadCount: 2, lastMessage: { id: second.message.id, content: 'two' } });
    expect((await conversationAs(alice, conversationId)).unreadCount).toBe(0);
  });

  describe('clientMessageId dedupe', () => {
    test('a retry with the same clientMessageId answers 200 with the stored message and stores nothing twice', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const body = { receiverId: bob, content: 'only once', clientMessageId: 'retry-1' };

      const first = await send(app(), alice, body);
      const retry = await send(app(), alice, body);

      expect(first.status).toBe(201);
      expect(retry.status).toBe(200);
      expect(retry.body.message).toEqual(first.body.message);
      expect(retry.body.conversation).toMatchObject({ id: first.body.conversation.id, unreadCount: 0, participant: { id: bob } });
      const history = await historyOf(app(), alice, first.body.message.conversationId);
      expect(history.map((m) => m.id)).toEqual([first.body.message.id]);
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(1);
      expect((await conversationAs(bob, first.body.message.conversationId)).unreadCount).toBe(1);
    });

    test('reusing a clientMessageId with different content is CONFLICT and stores nothing', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      await sendMessage(app(), alice, bob, 'original', { clientMessageId: 'same-id' });

      const res = await send(app(), alice, { receiverId: bob, content: 'something else', clientMessageId: 'same-id' });

      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(1);
    });

    test('the same clientMessageId from two different senders is two messages', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const fromAlice = await send(app(), alice, { receiverId: bob, content: 'hi', clientMessageId: 'shared' });
      const fromBob = await send(app(), bob, { receiverId: alice, content: 'hi', clientMessageId: 'shared' });

      expect(fromAlice.status).toBe(201);
      expect(fromBob.status).toBe(201);
      expect(fromBob.body.message.id).not.toBe(fromAlice.body.message.id);
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(2);
    });

    test('ten concurrent retries with one clientMessageId store exactly one message and all answer with its id', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const body = { receiverId: bob, content: 'flaky network', clientMessageId: 'burst-1' };

      const responses = await Promise.all(Array.from({ length: 10 }, () => send(app(), alice, body)));

      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      const ids = new Set(responses.map((r) => r.body.message.id));
      expect(ids.size).toBe(1);
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(1);
      const conversationId = responses[0]!.body.message.conversationId;
      expect((await historyOf(app(), bob, conversationId)).map((m) => m.id)).toEqual([...ids]);
      expect((await conversationAs(bob, conversationId)).unreadCount).toBe(1);
    });
  });

  describe('who the message goes to', () => {
    test('sending to oneself is VALIDATION_FAILED and creates no conversation', async () => {
      const { alice } = await createCast(app().chat.sequelize);
      const res = await send(app(), alice, { receiverId: alice, content: 'note to self' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(await countRows(app().chat.sequelize, 'conversations')).toBe(0);
    });

    test('a receiverId that is not a user is NOT_FOUND', async () => {
      const { alice } = await createCast(app().chat.sequelize);
      const res = await send(app(), alice, { receiverId: 999_999, content: 'anyone there?' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect(await countRows(app().chat.sequelize, 'conversations')).toBe(0);
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(0);
    });

    test('a participant can send by conversationId and it reaches the other participant', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const first = await sendMessage(app(), alice, bob, 'by receiver');
      const conversationId = first.message.conversationId;

      const res = await send(app(), bob, { conversationId, content: 'by conversation' });

      expect(res.status).toBe(201);
      expect(res.body.message).toMatchObject({ conversationId, senderId: bob, receiverId: alice, content: 'by conversation' });
      expect(res.body.conversation).toMatchObject({ id: conversationId, participant: { id: alice }, unreadCount: 1 });
      expect((await historyOf(app(), alice, conversationId)).map((m) => m.content)).toEqual(['by receiver', 'by conversation']);
    });

    test('a stranger who sends into a conversationId gets NOT_FOUND and stores nothing', async () => {
      const { alice, bob, stranger } = await createCast(app().chat.sequelize);
      const first = await sendMessage(app(), alice, bob, 'private');

      const res = await send(app(), stranger, { conversationId: first.message.conversationId, content: 'let me in' });

      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(1);
    });
  });

  describe('content rules', () => {
    test.each([
      ['empty', ''],
      ['spaces only', '    '],
      ['whitespace only', ' \n\t \r\n '],
    ])('%s content without an attachment is VALIDATION_FAILED', async (_label, content) => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const res = await send(app(), alice, { receiverId: bob, content });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(0);
    });

    test('a message with no content field at all is VALIDATION_FAILED', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const res = await send(app(), alice, { receiverId: bob });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    });

    test('content of exactly MAX_MESSAGE_LENGTH characters is accepted and stored whole', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const content = 'a'.repeat(MAX_MESSAGE_LENGTH);
      const res = await send(app(), alice, { receiverId: bob, content });
      expect(res.status).toBe(201);
      expect(res.body.message.content).toBe(content);
    });

    test('astral emoji count as one code point each: MAX_MESSAGE_LENGTH of them is accepted though the JS length is double', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const content = '😀'.repeat(MAX_MESSAGE_LENGTH);
      expect(content.length).toBe(2 * MAX_MESSAGE_LENGTH);

      const res = await send(app(), alice, { receiverId: bob, content });

      expect(res.status).toBe(201);
      expect(res.body.message.content).toBe(content);
      const [stored] = await historyOf(app(), bob, res.body.message.conversationId);
      expect(stored!.content).toBe(content);
    });

    test('mixed text of exactly MAX_MESSAGE_LENGTH code points is accepted', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const content = 'é'.repeat(MAX_MESSAGE_LENGTH / 2 - 1) + '😀'.repeat(MAX_MESSAGE_LENGTH / 2) + 'x';
      expect([...content]).toHaveLength(MAX_MESSAGE_LENGTH);
      const res = await send(app(), alice, { receiverId: bob, content });
      expect(res.status).toBe(201);
    });

    test.each([
      ['ASCII letters', 'a'.repeat(MAX_MESSAGE_LENGTH + 1)],
      ['astral emoji', '😀'.repeat(MAX_MESSAGE_LENGTH + 1)],
      ['emoji plus one letter', '😀'.repeat(MAX_MESSAGE_LENGTH) + 'a'],
    ])('content one code point over MAX_MESSAGE_LENGTH (%s) is VALIDATION_FAILED', async (_label, content) => {
      const { alice, bob } = await createCast(app().chat.sequelize);
      const res = await send(app(), alice, { receiverId: bob, content });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(0);
    });
  });

  describe('concurrency', () => {
    test('ten concurrent first messages between one pair, both ways, create exactly one conversation and ten messages', async () => {
      const { alice, bob } = await createCast(app().chat.sequelize);

      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0 ? send(app(), alice, { receiverId: bob, content: `a${i}` }) : send(app(), bob, { receiverId: alice, content: `b${i}` }),
        ),
      );

      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      const conversationIds = new Set(responses.map((r) => r.body.message.conversationId));
      expect(conversationIds.size).toBe(1);
      const [conversationId] = [...conversationIds];
      expect(await countRows(app().chat.sequelize, 'conversations')).toBe(1);
      expect(await countRows(app().chat.sequelize, 'messages')).toBe(10);

      for (const [user, other] of [[alice, bob], [bob, alice]] as const) {
        const list = await app().api().get('/api/chat/conversations').set(bearer(user));
        expect(list.body.conversations).toHaveLength(1);
        expect(list.body.conversations[0]).toMatchObject({ id: conversationId, participant: { id: other }, unreadCount: 5 });
      }
      const history = await historyOf(app(), alice, conversationId!);
      expect(history.map((m) => m.content).sort()).toEqual(['a0', 'a2', 'a4', 'a6', 'a8', 'b1', 'b3', 'b5', 'b7', 'b9']);
      // Oldest first means it by the clock too: createdAt never goes backwards along the page.
      const times = history.map((m) => m.createdAt);
      expect(times).toEqual([...times].sort());
      const conversation = await conversationAs(alice, conversationId!);
      expect(conversation.lastMessage.id).toBe(history[history.length - 1]!.id);
      expect(conversation.lastMessageAt).toBe(times[times.length - 1]);
    });
  });
});

describe('POST /send rate limit', () => {
  const limited = useStartedApp({ limits: { rates: { send: { burst: 3, perSecond: 1 } } } });

  test('the send after a used-up burst is RATE_LIMITED with Retry-After and retryAfterMs, and is not stored', async () => {
    const alice = await createUser(limited().chat.sequelize, 'Alice');
    const bob = await createUser(limited().chat.sequelize, 'Bob');

    for (let i = 0; i < 3; i++) {
      expect((await send(limited(), alice, { receiverId: bob, content: `quick ${i}` })).status).toBe(201);
    }
    const res = await send(limited(), alice, { receiverId: bob, content: 'one too many' });

    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.body.error.retryAfterMs).toEqual(expect.any(Number));
    expect(res.body.error.retryAfterMs).toBeGreaterThan(0);
    expect(res.body.error.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(await countRows(limited().chat.sequelize, 'messages')).toBe(3);
  });

  test("one user's exhausted limit does not stop another user", async () => {
    const alice = await createUser(limited().chat.sequelize, 'Alice');
    const bob = await createUser(limited().chat.sequelize, 'Bob');
    const carol = await createUser(limited().chat.sequelize, 'Carol');
    // Fresh ids after the reset, but the limiter lives as long as the app: use up alice's burst here.
    let status = 0;
    for (let i = 0; i < 5 && status !== 429; i++) status = (await send(limited(), alice, { receiverId: bob, content: `x${i}` })).status;
    expect(status).toBe(429);

    const res = await send(limited(), carol, { receiverId: bob, content: 'my own budget' });
    expect(res.status).toBe(201);
  });
});
