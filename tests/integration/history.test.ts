import type { Sequelize } from 'sequelize';
import type { MessageJson } from '../../src/messages/message.presenter';
import { ISO } from '../helpers/contract';
import { createCast, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';

const app = useTestApp();

interface Page {
  status: number;
  body: { messages: MessageJson[]; hasMore: boolean; error?: { code: string } };
}

const history = async (userId: number, conversationId: number, query: Record<string, string | number> = {}): Promise<Page> =>
  app().api().get(`/api/chat/conversations/${conversationId}/messages`).query(query).set(bearer(userId));

const idsOf = (page: Page) => page.body.messages.map((m) => m.id);

/** `count` messages over the API, alternating alice → bob and bob → alice; returns their ids, oldest first. */
async function converse(alice: number, bob: number, count: number): Promise<{ conversationId: number; ids: number[] }> {
  const ids: number[] = [];
  let conversationId = 0;
  for (let i = 1; i <= count; i++) {
    const [from, to] = i % 2 ? [alice, bob] : [bob, alice];
    const { message } = await sendMessage(app(), from, to, `message ${i}`);
    ids.push(message.id);
    conversationId = message.conversationId;
  }
  return { conversationId, ids };
}

/** Many messages at once, inserted straight into the table (for the page-size caps); ids oldest first. */
async function seedMessages(sequelize: Sequelize, conversationId: number, alice: number, bob: number, count: number): Promise<number[]> {
  const [rows] = await sequelize.query(
    `INSERT INTO messages (conversation_id, sender_id, receiver_id, content)
     SELECT :conversationId, CASE WHEN n % 2 = 1 THEN :alice ELSE :bob END, CASE WHEN n % 2 = 1 THEN :bob ELSE :alice END, 'seeded ' || n
       FROM generate_series(1, :count) AS n ORDER BY n
     RETURNING id`,
    { replacements: { conversationId, alice, bob, count } },
  );
  return (rows as { id: string | number }[]).map((r) => Number(r.id)).sort((a, b) => a - b);
}

async function openConversation(alice: number, bob: number): Promise<number> {
  const res = await app().api().post('/api/chat/conversations').set(bearer(alice)).send({ participantId: bob });
  expect(res.status).toBe(201);
  return res.body.conversation.id;
}

describe('GET /conversations/:id/messages', () => {
  test('an empty conversation has no messages and nothing more', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const conversationId = await openConversation(alice, bob);

    // Alice opened it; Bob does not see it until it holds a message (privacy.test.ts).
    const res = await history(alice, conversationId);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ messages: [], hasMore: false });
  });

  test('a page past either end is empty, not NOT_FOUND', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 2);

    expect((await history(alice, conversationId, { before: ids[0]! })).body).toEqual({ messages: [], hasMore: false });
    expect((await history(alice, conversationId, { after: ids[1]! })).body).toEqual({ messages: [], hasMore: false });
  });

  test.each<Record<string, number>>([{}, { before: 1_000_000 }, { after: 1 }])(
    'with query %p, a stranger and a missing conversation get the same NOT_FOUND',
    async (query) => {
      const { alice, bob, stranger } = await createCast(app().chat.sequelize);
      const { conversationId } = await converse(alice, bob, 2);

      for (const res of [await history(stranger, conversationId, query), await history(alice, 2_000_000_000, query)]) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: expect.objectContaining({ code: 'NOT_FOUND' }) });
      }
      expect((await history(bob, conversationId, query)).status).toBe(200);
    },
  );

  test('messages come as full Message objects, the same for both participants', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello', { clientMessageId: 'h-1' });

    const asAlice = await history(alice, sent.message.conversationId);
    const asBob = await history(bob, sent.message.conversationId);

    expect(asAlice.body).toEqual({ messages: [sent.message], hasMore: false });
    expect(asBob.body).toEqual(asAlice.body);
    expect(asAlice.body.messages[0]).toEqual({
      id: sent.message.id,
      conversationId: sent.message.conversationId,
      senderId: alice,
      receiverId: bob,
      content: 'hello',
      attachment: null,
      clientMessageId: 'h-1',
      deliveredAt: null,
      isRead: false,
      readAt: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
  });

  test('without a cursor the newest `limit` messages come oldest first, with hasMore when older ones exist', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 5);

    const res = await history(alice, conversationId, { limit: 3 });

    expect(res.status).toBe(200);
    expect(idsOf(res)).toEqual(ids.slice(2));
    expect(res.body.messages.map((m) => m.content)).toEqual(['message 3', 'message 4', 'message 5']);
    expect(res.body.hasMore).toBe(true);
  });

  test('without a cursor and a limit that covers everything, hasMore is false', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 5);

    for (const limit of [5, 6]) {
      const res = await history(bob, conversationId, { limit });
      expect(idsOf(res)).toEqual(ids);
      expect(res.body.hasMore).toBe(false);
    }
  });

  test('before is exclusive and pages back until hasMore is false', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 5);

    const page = await history(alice, conversationId, { limit: 2, before: ids[4]! });
    expect(idsOf(page)).toEqual([ids[2], ids[3]]);
    expect(page.body.hasMore).toBe(true);

    const older = await history(alice, conversationId, { limit: 2, before: ids[2]! });
    expect(idsOf(older)).toEqual([ids[0], ids[1]]);
    expect(older.body.hasMore).toBe(false);

    const beforeFirst = await history(alice, conversationId, { limit: 2, before: ids[0]! });
    expect(beforeFirst.body).toEqual({ messages: [], hasMore: false });
  });

  test('after is exclusive and catches up until hasMore is false', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 5);

    const page = await history(bob, conversationId, { limit: 2, after: ids[0]! });
    expect(idsOf(page)).toEqual([ids[1], ids[2]]);
    expect(page.body.hasMore).toBe(true);

    const newer = await history(bob, conversationId, { limit: 2, after: ids[2]! });
    expect(idsOf(newer)).toEqual([ids[3], ids[4]]);
    expect(newer.body.hasMore).toBe(false);

    const afterLast = await history(bob, conversationId, { limit: 2, after: ids[4]! });
    expect(afterLast.body).toEqual({ messages: [], hasMore: false });
  });

  test('after catches up on messages sent since the last page', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 2);
    const seen = await history(bob, conversationId);
    expect(idsOf(seen)).toEqual(ids);

    const { message } = await sendMessage(app(), alice, bob, 'while you were away');

    const caughtUp = await history(bob, conversationId, { after: ids[1]! });
    expect(caughtUp.body).toEqual({ messages: [expect.objectContaining({ id: message.id, content: 'while you were away' })], hasMore: false });
  });

  test('at an exact multiple of the limit, walking back with before ends with hasMore false and no empty page', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 6);

    const newest = await history(alice, conversationId, { limit: 3 });
    expect(idsOf(newest)).toEqual(ids.slice(3));
    expect(newest.body.hasMore).toBe(true);

    const oldest = await history(alice, conversationId, { limit: 3, before: newest.body.messages[0]!.id });
    expect(idsOf(oldest)).toEqual(ids.slice(0, 3));
    expect(oldest.body.hasMore).toBe(false);
  });

  test('at an exact multiple of the limit, catching up with after ends with hasMore false', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    // Six messages after the first one the client has seen.
    const { conversationId, ids } = await converse(alice, bob, 7);

    const first = await history(bob, conversationId, { limit: 3, after: ids[0]! });
    expect(idsOf(first)).toEqual(ids.slice(1, 4));
    expect(first.body.hasMore).toBe(true);

    const second = await history(bob, conversationId, { limit: 3, after: ids[3]! });
    expect(idsOf(second)).toEqual(ids.slice(4));
    expect(second.body.hasMore).toBe(false);
  });

  test('the default limit is 50 and a limit above 100 is capped at 100', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const conversationId = await openConversation(alice, bob);
    const ids = await seedMessages(app().chat.sequelize, conversationId, alice, bob, 120);

    const byDefault = await history(alice, conversationId);
    expect(idsOf(byDefault)).toEqual(ids.slice(-50));
    expect(byDefault.body.hasMore).toBe(true);

    const capped = await history(alice, conversationId, { limit: 500 });
    expect(capped.status).toBe(200);
    expect(idsOf(capped)).toEqual(ids.slice(-100));
    expect(capped.body.hasMore).toBe(true);

    const cappedAfter = await history(alice, conversationId, { limit: 101, after: ids[0]! });
    expect(idsOf(cappedAfter)).toEqual(ids.slice(1, 101));
    expect(cappedAfter.body.hasMore).toBe(true);
  });

  test.each(['0', '-1', 'abc', '1.5'])('a limit of %s is VALIDATION_FAILED', async (limit) => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId } = await converse(alice, bob, 1);
    const res = await history(alice, conversationId, { limit });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('VALIDATION_FAILED');
  });

  test.each([
    ['before', 'abc'],
    ['before', '0'],
    ['after', '-1'],
  ])('a %s cursor of %s is VALIDATION_FAILED', async (name, value) => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId } = await converse(alice, bob, 1);
    const res = await history(alice, conversationId, { [name]: value });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('VALIDATION_FAILED');
  });

  test('before and after together are VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 3);

    const res = await history(alice, conversationId, { before: ids[2]!, after: ids[0]! });

    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('VALIDATION_FAILED');
  });

  test('soft-deleted messages do not appear in history, paged or not', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversationId, ids } = await converse(alice, bob, 5);
    // Messages 1, 3 and 5 are alice's; she deletes 3 and 5 (the newest).
    for (const id of [ids[2]!, ids[4]!]) {
      expect((await app().api().delete(`/api/chat/messages/${id}`).set(bearer(alice))).status).toBe(204);
    }
    const visible = [ids[0], ids[1], ids[3]];

    for (const viewer of [alice, bob]) {
      expect(idsOf(await history(viewer, conversationId))).toEqual(visible);
    }
    const newest = await history(bob, conversationId, { limit: 2 });
    expect(idsOf(newest)).toEqual([ids[1], ids[3]]);
    expect(newest.body.hasMore).toBe(true);
    const back = await history(bob, conversationId, { limit: 2, before: ids[3]! });
    expect(idsOf(back)).toEqual([ids[0], ids[1]]);
    expect(back.body.hasMore).toBe(false);
    const fromDeleted = await history(bob, conversationId, { after: ids[2]! });
    expect(idsOf(fromDeleted)).toEqual([ids[3]]);
    expect(fromDeleted.body.hasMore).toBe(false);
  });

  test('history of another conversation never leaks into this one', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const ours = await converse(alice, bob, 2);
    await sendMessage(app(), stranger, alice, 'elsewhere');

    const res = await history(bob, ours.conversationId);

    expect(idsOf(res)).toEqual(ours.ids);
  });
});
