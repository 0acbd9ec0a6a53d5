import type { Sequelize } from 'sequelize';
import { firstSendToBob, ISO } from '../helpers/contract';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';
import { aLaterMillisecond } from '../helpers/waiting';

const app = useTestApp();

const open = (userId: number, participantId: unknown) =>
  app().api().post('/api/chat/conversations').set(bearer(userId)).send({ participantId });

const list = (userId: number, query: Record<string, string | number> = {}) =>
  app().api().get('/api/chat/conversations').query(query).set(bearer(userId));

const idsOf = (conversations: { id: number }[]) => conversations.map((c) => c.id);


/**
 * `count` new users, each with an empty conversation with `userId`, inserted straight into the
 * tables (cheap enough for the page-size caps). `minutesAgo(i)` sets the i-th conversation's
 * creation (and so activity) time relative to one fixed instant, so equal values are exact ties.
 * Returns the conversation ids in insertion order.
 */
async function seedConversations(
  sequelize: Sequelize,
  userId: number,
  count: number,
  minutesAgo: (i: number) => number = () => 0,
): Promise<number[]> {
  const ids: number[] = [];
  const base = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const other = await createUser(sequelize, `Peer ${i}`);
    const [rows] = await sequelize.query(
      `WITH at AS (SELECT CAST(:base AS timestamptz) - make_interval(mins => :ago) AS t)
       INSERT INTO conversations (participant_1_id, participant_2_id, created_at, last_activity_at)
       SELECT :low, :high, t, t FROM at
       RETURNING id`,
      { replacements: { low: Math.min(userId, other), high: Math.max(userId, other), ago: minutesAgo(i), base } },
    );
    ids.push(Number((rows as { id: number }[])[0]!.id));
  }
  return ids;
}

/** Follows nextCursor from the first page to the end; returns each page's ids. */
async function walkPages(userId: number, limit: number): Promise<number[][]> {
  const pages: number[][] = [];
  let cursor: string | null = null;
  do {
    const res = await list(userId, cursor === null ? { limit } : { limit, cursor });
    expect(res.status).toBe(200);
    pages.push(idsOf(res.body.conversations));
    cursor = res.body.nextCursor;
    if (cursor !== null) expect(typeof cursor).toBe('string');
  } while (cursor !== null && pages.length < 50);
  return pages;
}

describe('POST /conversations', () => {
  test('opening a new conversation answers 201 with the conversation as the opener sees it', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);

    const res = await open(alice, bob);

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      conversation: {
        id: expect.any(Number),
        participantIds: [alice, bob],
        participant: { id: bob, name: 'Bob', avatarUrl: null },
        lastMessage: null,
        lastMessageAt: null,
        unreadCount: 0,
        createdAt: expect.stringMatching(ISO),
      },
    });
  });

  test('opening it again, from either side, answers 200 with the same conversation: one per unordered pair', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const created = await open(alice, bob);

    const again = await open(alice, bob);
    const fromBob = await open(bob, alice);

    expect(again.status).toBe(200);
    expect(again.body.conversation).toEqual(created.body.conversation);
    expect(fromBob.status).toBe(200);
    expect(fromBob.body.conversation).toMatchObject({ id: created.body.conversation.id, participant: { id: alice, name: 'Alice' } });
    const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n FROM conversations');
    expect((rows as { n: number }[])[0]!.n).toBe(1);
  });

  test('opening the conversation a first message created returns it with 200', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hi');

    const res = await open(bob, alice);

    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ id: sent.message.conversationId, unreadCount: 1, lastMessage: { id: sent.message.id } });
  });

  test('opening a conversation with oneself is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await open(alice, alice);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('opening a conversation with a participantId that is not a user is NOT_FOUND', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await open(alice, 424_242);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n FROM conversations');
    expect((rows as { n: number }[])[0]!.n).toBe(0);
  });
});

describe('GET /conversations', () => {
  test('a user with no conversations gets an empty list and a null cursor', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await list(alice);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ conversations: [], nextCursor: null });
  });

  test('conversations come newest activity first: empty ones by creation time, others by their newest message', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const carol = await createUser(app().chat.sequelize, 'Carol');
    const dave = await createUser(app().chat.sequelize, 'Dave');
    const withBob = (await open(alice, bob)).body.conversation.id;
    await aLaterMillisecond();
    const withCarol = (await open(alice, carol)).body.conversation.id;
    await aLaterMillisecond();
    const withDave = (await open(alice, dave)).body.conversation.id;

    expect(idsOf((await list(alice)).body.conversations)).toEqual([withDave, withCarol, withBob]);

    await aLaterMillisecond();
    const fromBob = await sendMessage(app(), bob, alice, 'bump');
    const afterBob = (await list(alice)).body.conversations;
    expect(idsOf(afterBob)).toEqual([withBob, withDave, withCarol]);
    expect(afterBob[0]).toMatchObject({ lastMessage: { id: fromBob.message.id }, lastMessageAt: fromBob.message.createdAt, unreadCount: 1 });
    expect(afterBob[1]).toMatchObject({ lastMessage: null, lastMessageAt: null });

    await aLaterMillisecond();
    await sendMessage(app(), alice, carol, 'and you');
    expect(idsOf((await list(alice)).body.conversations)).toEqual([withCarol, withBob, withDave]);
    expect(idsOf((await list(carol)).body.conversations)).toEqual([withCarol]);
  });

  test('conversations with the same activity time are ordered by id, newest id first', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const ids = await seedConversations(app().chat.sequelize, alice, 4);
    const [rows] = await app().chat.sequelize.query('SELECT count(DISTINCT last_activity_at)::int AS n FROM conversations');
    expect((rows as { n: number }[])[0]!.n).toBe(1);

    expect(idsOf((await list(alice)).body.conversations)).toEqual([...ids].reverse());
  });

  test('the default page holds 20 conversations', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    await seedConversations(app().chat.sequelize, alice, 25, (i) => i);

    const first = await list(alice);

    expect(first.body.conversations).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await list(alice, { cursor: first.body.nextCursor });
    expect(rest.body.conversations).toHaveLength(5);
    expect(rest.body.nextCursor).toBeNull();
  });

  test('a limit above 100 is capped at 100', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const ids = await seedConversations(app().chat.sequelize, alice, 105, (i) => i);

    const res = await list(alice, { limit: 500 });

    expect(res.status).toBe(200);
    expect(idsOf(res.body.conversations)).toEqual(ids.slice(0, 100));
    expect(res.body.nextCursor).toEqual(expect.any(String));
    const rest = await list(alice, { limit: 500, cursor: res.body.nextCursor });
    expect(idsOf(rest.body.conversations)).toEqual(ids.slice(100));
    expect(rest.body.nextCursor).toBeNull();
  });

  test('cursor paging walks every conversation once, in order, and ends with a null cursor', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    // Activity times with ties (every third one shares a minute), so the id tie-break is paged across too.
    const ids = await seedConversations(app().chat.sequelize, alice, 7, (i) => Math.floor(i / 3));
    const expected = ids
      .map((id, i) => ({ id, ago: Math.floor(i / 3) }))
      .sort((a, b) => a.ago - b.ago || b.id - a.id)
      .map((c) => c.id);

    const pages = await walkPages(alice, 3);

    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(expected);
  });

  test('when the count is an exact multiple of the limit the last full page has a null cursor', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const ids = await seedConversations(app().chat.sequelize, alice, 6, (i) => i);

    const pages = await walkPages(alice, 3);

    expect(pages).toEqual([ids.slice(0, 3), ids.slice(3, 6)]);
  });

  test('paging is per user: another user sees only their own conversations', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await seedConversations(app().chat.sequelize, alice, 4, (i) => i);
    const bobsOwn = (await open(bob, alice)).body.conversation.id;

    const pages = await walkPages(bob, 3);

    expect(pages).toEqual([[bobsOwn]]);
  });

  test.each([
    ['not base64 of a cursor', 'abc'],
    ['punctuation', '!!!'],
    ['a zero id', Buffer.from('1700000000000.0').toString('base64url')],
    ['an id too large', Buffer.from('1700000000000.99999999999').toString('base64url')],
    ['no id', Buffer.from('1700000000000').toString('base64url')],
  ])('a cursor that is %s is VALIDATION_FAILED', async (_label, cursor) => {
    const { alice } = await createCast(app().chat.sequelize);
    await seedConversations(app().chat.sequelize, alice, 2);
    const res = await list(alice, { cursor });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test.each(['0', '-1', 'abc'])('a limit of %s is VALIDATION_FAILED', async (limit) => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await list(alice, { limit });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /conversations/:id', () => {
  test('each participant gets the conversation with the other user as participant and their own unread count', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello');
    const id = sent.message.conversationId;

    const asAlice = await app().api().get(`/api/chat/conversations/${id}`).set(bearer(alice));
    const asBob = await app().api().get(`/api/chat/conversations/${id}`).set(bearer(bob));

    expect(asAlice.status).toBe(200);
    expect(asAlice.body).toEqual({ conversation: { ...firstSendToBob(sent, alice, bob, 'hello').conversation, id } });
    expect(asBob.status).toBe(200);
    expect(asBob.body.conversation).toEqual({
      ...asAlice.body.conversation,
      participant: { id: alice, name: 'Alice', avatarUrl: null },
      unreadCount: 1,
    });
  });

  test('a stranger and a missing id both get the same NOT_FOUND', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const { message } = await sendMessage(app(), alice, bob, 'private');

    const asStranger = await app().api().get(`/api/chat/conversations/${message.conversationId}`).set(bearer(stranger));
    const missing = await app().api().get('/api/chat/conversations/987654').set(bearer(alice));

    expect(asStranger.status).toBe(404);
    expect(asStranger.body.error.code).toBe('NOT_FOUND');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(asStranger.body);
  });

  test.each(['abc', '-1', '0', '1e400', '99999999999', '1.5'])('a conversation id of %s is VALIDATION_FAILED', async (id) => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().get(`/api/chat/conversations/${id}`).set(bearer(alice));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('a stranger to a conversation', () => {
  let alice: number;
  let bob: number;
  let stranger: number;
  let conversationId: number;
  let messageId: number;
  beforeEach(async () => {
    ({ alice, bob, stranger } = await createCast(app().chat.sequelize));
    const { message } = await sendMessage(app(), alice, bob, 'for Bob only');
    conversationId = message.conversationId;
    messageId = message.id;
  });

  const expectNotFound = (res: { status: number; body: { error?: { code?: string } } }) => {
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('NOT_FOUND');
  };

  test('a stranger who gets the conversation gets NOT_FOUND', async () => {
    expectNotFound(await app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(stranger)));
  });

  test('a stranger who reads history gets NOT_FOUND', async () => {
    expectNotFound(await app().api().get(`/api/chat/conversations/${conversationId}/messages`).set(bearer(stranger)));
  });

  test('a stranger who marks the conversation read gets NOT_FOUND and nothing is marked', async () => {
    expectNotFound(await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(stranger)).send({}));
    const asBob = await app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(bob));
    expect(asBob.body.conversation).toMatchObject({ unreadCount: 1, lastMessage: { id: messageId, isRead: false, readAt: null } });
  });

  test('a stranger who deletes a message gets the same NOT_FOUND as for a missing message, and it stays', async () => {
    const res = await app().api().delete(`/api/chat/messages/${messageId}`).set(bearer(stranger));
    expectNotFound(res);
    const missing = await app().api().delete('/api/chat/messages/987654').set(bearer(stranger));
    expect(missing.body).toEqual(res.body);
    const history = await app().api().get(`/api/chat/conversations/${conversationId}/messages`).set(bearer(alice));
    expect(history.body.messages.map((m: { id: number }) => m.id)).toEqual([messageId]);
  });

  test("a stranger's conversation list does not include it", async () => {
    expect((await list(stranger)).body).toEqual({ conversations: [], nextCursor: null });
  });
});

describe('an empty cursor', () => {
  const app = useTestApp();

  test('`?cursor=` (as the contract writes the first page) means the first page', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await sendMessage(app(), alice, bob, 'hi');
    const res = await app().api().get('/api/chat/conversations?limit=20&cursor=').set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.body.conversations).toHaveLength(1);
    expect(res.body.nextCursor).toBeNull();
  });
});
