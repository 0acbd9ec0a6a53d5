import { ISO } from '../helpers/contract';
import { createCast, createUser, historyOf, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';

const app = useTestApp();

async function markRead(userId: number, conversationId: number, body: Record<string, unknown> = {}) {
  return app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(userId)).send(body);
}

async function unreadCount(userId: number): Promise<{ total: number; conversations: { conversationId: number; unreadCount: number }[] }> {
  const res = await app().api().get('/api/chat/unread-count').set(bearer(userId));
  expect(res.status).toBe(200);
  return res.body;
}

async function conversationUnread(userId: number, conversationId: number): Promise<number> {
  const res = await app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(userId));
  expect(res.status).toBe(200);
  return res.body.conversation.unreadCount;
}

/** The stored counter and the real number of unread, visible messages, for one participant. */
async function unreadInDatabase(conversationId: number, userId: number): Promise<{ counter: number; actual: number }> {
  const [rows] = await app().chat.sequelize.query(
    `SELECT CASE WHEN c.participant_1_id = :userId THEN c.participant_1_unread ELSE c.participant_2_unread END AS counter,
            (SELECT count(*)::int FROM messages m
              WHERE m.conversation_id = c.id AND m.receiver_id = :userId AND NOT m.is_read AND m.deleted_at IS NULL) AS actual
       FROM conversations c WHERE c.id = :conversationId`,
    { replacements: { conversationId, userId } },
  );
  const row = (rows as { counter: number; actual: number }[])[0]!;
  return { counter: Number(row.counter), actual: Number(row.actual) };
}

describe('POST /conversations/:id/read', () => {
  test('marks only what the caller received as read and reports how many', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const first = await sendMessage(app(), alice, bob, 'one');
    await sendMessage(app(), alice, bob, 'two');
    await sendMessage(app(), bob, alice, 'reply from bob');
    const conversationId = first.message.conversationId;

    const res = await markRead(bob, conversationId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ conversationId, readAt: expect.stringMatching(ISO), count: 2 });

    const messages = await historyOf(app(), bob, conversationId);
    const fromAlice = messages.filter((m) => m.senderId === alice);
    const fromBob = messages.filter((m) => m.senderId === bob);
    expect(fromAlice.map((m) => [m.isRead, m.readAt])).toEqual([
      [true, res.body.readAt],
      [true, res.body.readAt],
    ]);
    // Bob's own message stays unread: only Alice can read it.
    expect(fromBob.map((m) => [m.isRead, m.readAt])).toEqual([[false, null]]);
    expect(await conversationUnread(bob, conversationId)).toBe(0);
    expect(await conversationUnread(alice, conversationId)).toBe(1);
  });

  test('marking one\'s own sent messages does nothing', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello');

    const res = await markRead(alice, sent.message.conversationId);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(0);
    expect(await conversationUnread(bob, sent.message.conversationId)).toBe(1);
    expect((await historyOf(app(), bob, sent.message.conversationId))[0]).toMatchObject({ isRead: false, readAt: null });
  });

  test('upToMessageId marks only up to that message, inclusive', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = [];
    for (const text of ['m1', 'm2', 'm3', 'm4']) sent.push((await sendMessage(app(), alice, bob, text)).message);
    const ids = sent.map((m) => m.id);
    const conversationId = sent[0]!.conversationId;

    const res = await markRead(bob, conversationId, { upToMessageId: ids[1] });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(2);

    const byId = new Map((await historyOf(app(), bob, conversationId)).map((m) => [m.id, m]));
    expect(ids.map((id) => byId.get(id)!.isRead)).toEqual([true, true, false, false]);
    expect(await conversationUnread(bob, conversationId)).toBe(2);

    const rest = await markRead(bob, conversationId, { upToMessageId: String(ids[3]) });
    expect(rest.status).toBe(200);
    expect(rest.body.count).toBe(2);
    expect(await conversationUnread(bob, conversationId)).toBe(0);
  });

  test('is idempotent: a second call marks nothing and changes nothing', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello');
    const conversationId = sent.message.conversationId;

    const first = await markRead(bob, conversationId);
    expect(first.body.count).toBe(1);
    const [before] = await historyOf(app(), bob, conversationId);

    const second = await markRead(bob, conversationId);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ conversationId, readAt: expect.stringMatching(ISO), count: 0 });
    const [after] = await historyOf(app(), bob, conversationId);
    expect(after!.readAt).toBe(before!.readAt);
    expect(await conversationUnread(bob, conversationId)).toBe(0);
    expect(await unreadInDatabase(conversationId, bob)).toEqual({ counter: 0, actual: 0 });
  });

  test('sets deliveredAt where it was still null and keeps an earlier one', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const early = await sendMessage(app(), alice, bob, 'delivered earlier');
    const late = await sendMessage(app(), alice, bob, 'never delivered');
    const conversationId = early.message.conversationId;
    expect(late.message.deliveredAt).toBeNull();
    const deliveredAt = '2020-01-02T03:04:05.678Z';
    await app().chat.sequelize.query('UPDATE messages SET delivered_at = :deliveredAt WHERE id = :id', {
      replacements: { deliveredAt, id: early.message.id },
    });

    const res = await markRead(bob, conversationId);
    expect(res.body.count).toBe(2);

    const byId = new Map((await historyOf(app(), bob, conversationId)).map((m) => [m.id, m]));
    expect(byId.get(early.message.id)!.deliveredAt).toBe(deliveredAt);
    expect(byId.get(late.message.id)!.deliveredAt).toMatch(ISO);
    expect(byId.get(late.message.id)!.readAt).toBe(res.body.readAt);
  });

  test('a stranger gets NOT_FOUND and marks nothing', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'private');

    const res = await markRead(stranger, sent.message.conversationId);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await conversationUnread(bob, sent.message.conversationId)).toBe(1);
  });

  test('a conversation that does not exist is NOT_FOUND and a malformed upToMessageId is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello');

    const missing = await markRead(bob, sent.message.conversationId + 1000);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');

    for (const upToMessageId of ['abc', -1, 0, 1.5, true]) {
      const res = await markRead(bob, sent.message.conversationId, { upToMessageId });
      expect({ upToMessageId, status: res.status, code: res.body.error?.code }).toEqual({
        upToMessageId,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect(await conversationUnread(bob, sent.message.conversationId)).toBe(1);
  });
});

describe('GET /unread-count', () => {
  test('lists only conversations with unread messages, across several conversations', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const dave = await createUser(app().chat.sequelize, 'Dave');
    const fromAlice = await sendMessage(app(), alice, bob, 'a1');
    await sendMessage(app(), alice, bob, 'a2');
    await sendMessage(app(), alice, bob, 'a3');
    const fromCarol = await sendMessage(app(), carol, bob, 'c1');
    const fromDave = await sendMessage(app(), dave, bob, 'd1');
    // Bob wrote to Carol too: his own messages never count for him.
    await sendMessage(app(), bob, carol, 'b->c');
    await markRead(bob, fromDave.message.conversationId);

    const counts = await unreadCount(bob);
    expect(counts).toEqual({
      total: 4,
      conversations: expect.arrayContaining([
        { conversationId: fromAlice.message.conversationId, unreadCount: 3 },
        { conversationId: fromCarol.message.conversationId, unreadCount: 1 },
      ]),
    });
    expect(counts.conversations).toHaveLength(2);

    expect(await unreadCount(carol)).toEqual({
      total: 1,
      conversations: [{ conversationId: fromCarol.message.conversationId, unreadCount: 1 }],
    });
    expect(await unreadCount(alice)).toEqual({ total: 0, conversations: [] });
  });

  test('agrees with each conversation\'s unreadCount in GET /conversations', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const dave = await createUser(app().chat.sequelize, 'Dave');
    for (let i = 0; i < 3; i++) await sendMessage(app(), alice, bob, `a${i}`);
    for (let i = 0; i < 2; i++) await sendMessage(app(), carol, bob, `c${i}`);
    await sendMessage(app(), dave, bob, 'd');
    const opened = await app().api().post('/api/chat/conversations').set(bearer(bob)).send({ participantId: alice });
    await markRead(bob, opened.body.conversation.id, { upToMessageId: (await historyOf(app(), bob, opened.body.conversation.id))[0]!.id });

    const list = await app().api().get('/api/chat/conversations').set(bearer(bob));
    expect(list.status).toBe(200);
    const fromList = (list.body.conversations as { id: number; unreadCount: number }[])
      .filter((c) => c.unreadCount > 0)
      .map((c) => ({ conversationId: c.id, unreadCount: c.unreadCount }))
      .sort((a, b) => a.conversationId - b.conversationId);
    const counts = await unreadCount(bob);

    expect([...counts.conversations].sort((a, b) => a.conversationId - b.conversationId)).toEqual(fromList);
    expect(counts.total).toBe(fromList.reduce((sum, c) => sum + c.unreadCount, 0));
    expect(counts.total).toBe(2 + 2 + 1);
  });

  test('drops as messages are read', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sendMessage(app(), alice, bob, `m${i}`)).message.id);
    const conversationId = (await unreadCount(bob)).conversations[0]!.conversationId;
    expect((await unreadCount(bob)).total).toBe(5);

    await markRead(bob, conversationId, { upToMessageId: ids[2] });
    expect(await unreadCount(bob)).toEqual({ total: 2, conversations: [{ conversationId, unreadCount: 2 }] });

    await markRead(bob, conversationId);
    expect(await unreadCount(bob)).toEqual({ total: 0, conversations: [] });
  });
});

describe('the unread counter under concurrency', () => {
  test('stays exact when 20 sends race with mark-reads', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const conversationId = (await sendMessage(app(), alice, bob, 'opening')).message.conversationId;

    const sends = Array.from({ length: 20 }, (_, i) =>
      app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: `burst ${i}` }),
    );
    const reads = Array.from({ length: 4 }, () => markRead(bob, conversationId));
    const results = await Promise.all([...sends.slice(0, 7), reads[0]!, ...sends.slice(7, 14), reads[1]!, reads[2]!, ...sends.slice(14), reads[3]!]);
    for (const res of results) expect([200, 201]).toContain(res.status);

    const mid = await unreadInDatabase(conversationId, bob);
    expect(mid.counter).toBe(mid.actual);
    expect(await conversationUnread(bob, conversationId)).toBe(mid.actual);
    expect((await unreadCount(bob)).total).toBe(mid.actual);
    // Every message was either marked by one of the reads or is still unread: none counted twice.
    const markedTotal = results.filter((r) => r.body.count !== undefined).reduce((sum, r) => sum + (r.body.count as number), 0);
    expect(markedTotal + mid.actual).toBe(21);

    const final = await markRead(bob, conversationId);
    expect(final.status).toBe(200);
    expect(final.body.count).toBe(mid.actual);
    expect(await unreadInDatabase(conversationId, bob)).toEqual({ counter: 0, actual: 0 });
    expect(await unreadCount(bob)).toEqual({ total: 0, conversations: [] });
    expect((await historyOf(app(), bob, conversationId)).every((m) => m.isRead)).toBe(true);
  });

  test('stays exact for both sides when both send and read at once', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const conversationId = (await sendMessage(app(), alice, bob, 'opening')).message.conversationId;

    const work = [];
    for (let i = 0; i < 10; i++) {
      work.push(app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: `from alice ${i}` }));
      work.push(app().api().post('/api/chat/send').set(bearer(bob)).send({ receiverId: alice, content: `from bob ${i}` }));
      if (i % 3 === 0) {
        work.push(markRead(alice, conversationId));
        work.push(markRead(bob, conversationId));
      }
    }
    const results = await Promise.all(work);
    for (const res of results) expect([200, 201]).toContain(res.status);

    for (const user of [alice, bob]) {
      const { counter, actual } = await unreadInDatabase(conversationId, user);
      expect({ user, counter }).toEqual({ user, counter: actual });
      expect(await conversationUnread(user, conversationId)).toBe(actual);
    }

    await Promise.all([markRead(alice, conversationId), markRead(bob, conversationId)]);
    expect(await unreadInDatabase(conversationId, alice)).toEqual({ counter: 0, actual: 0 });
    expect(await unreadInDatabase(conversationId, bob)).toEqual({ counter: 0, actual: 0 });
  });
});
