import { createCast, createUser, historyOf, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';
import { aLaterMillisecond } from '../helpers/waiting';

const app = useTestApp();

const remove = (userId: number, messageId: number | string) =>
  app().api().delete(`/api/chat/messages/${messageId}`).set(bearer(userId));

async function historyIds(userId: number, conversationId: number): Promise<number[]> {
  return (await historyOf(app(), userId, conversationId)).map((m) => m.id);
}

async function conversation(userId: number, conversationId: number) {
  const res = await app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(userId));
  expect(res.status).toBe(200);
  return res.body.conversation as {
    id: number;
    lastMessage: { id: number; content: string } | null;
    lastMessageAt: string | null;
    unreadCount: number;
    createdAt: string;
  };
}

async function unreadTotal(userId: number): Promise<number> {
  const res = await app().api().get('/api/chat/unread-count').set(bearer(userId));
  expect(res.status).toBe(200);
  return res.body.total;
}


describe('DELETE /messages/:id: who may delete', () => {
  test('the sender gets 204 with an empty body', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'oops');

    const res = await remove(alice, sent.message.id);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  test('the receiver gets FORBIDDEN and the message stays', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'keep me');

    const res = await remove(bob, sent.message.id);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect(await historyIds(bob, sent.message.conversationId)).toEqual([sent.message.id]);
  });

  test('a stranger gets NOT_FOUND, never a hint that the message exists', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'private');

    const res = await remove(stranger, sent.message.id);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    const missing = await remove(stranger, sent.message.id + 1000);
    // The stranger cannot tell an existing message from a missing one.
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual(res.body.error);
    expect(await historyIds(alice, sent.message.conversationId)).toEqual([sent.message.id]);
  });

  test('a message id that does not exist is NOT_FOUND', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await remove(alice, 123456);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  test('deleting twice is NOT_FOUND the second time', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'once');

    expect((await remove(alice, sent.message.id)).status).toBe(204);
    const again = await remove(alice, sent.message.id);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('NOT_FOUND');
    // The receiver, too, now sees nothing to be forbidden from.
    expect((await remove(bob, sent.message.id)).status).toBe(404);
  });

  test('a malformed id is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const id of ['abc', '0', '-1', '1.5', '1e3']) {
      const res = await remove(alice, id);
      expect({ id, status: res.status, code: res.body.error?.code }).toEqual({ id, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});

describe('DELETE /messages/:id: effects', () => {
  test('the message vanishes from both users\' history', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const first = await sendMessage(app(), alice, bob, 'first');
    const doomed = await sendMessage(app(), alice, bob, 'second');
    const third = await sendMessage(app(), bob, alice, 'third');
    const conversationId = first.message.conversationId;

    expect((await remove(alice, doomed.message.id)).status).toBe(204);
    expect(await historyIds(alice, conversationId)).toEqual([first.message.id, third.message.id]);
    expect(await historyIds(bob, conversationId)).toEqual([first.message.id, third.message.id]);
  });

  test('the message vanishes from search', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const kept = await sendMessage(app(), alice, bob, 'pineapple pizza is fine');
    const doomed = await sendMessage(app(), alice, bob, 'pineapple pizza is wrong');
    const search = async (userId: number) => {
      const res = await app().api().get('/api/chat/search').query({ q: 'pineapple' }).set(bearer(userId));
      expect(res.status).toBe(200);
      return (res.body.messages as { id: number }[]).map((m) => m.id);
    };
    expect(await search(bob)).toEqual([doomed.message.id, kept.message.id]);

    expect((await remove(alice, doomed.message.id)).status).toBe(204);
    expect(await search(bob)).toEqual([kept.message.id]);
    expect(await search(alice)).toEqual([kept.message.id]);
  });

  test('lastMessage falls back to the newest remaining message', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const first = await sendMessage(app(), alice, bob, 'first');
    await aLaterMillisecond();
    const second = await sendMessage(app(), bob, alice, 'second');
    await aLaterMillisecond();
    const third = await sendMessage(app(), alice, bob, 'third');
    const conversationId = first.message.conversationId;

    // Deleting an older message leaves lastMessage alone.
    expect((await remove(alice, first.message.id)).status).toBe(204);
    expect((await conversation(bob, conversationId)).lastMessage?.id).toBe(third.message.id);

    expect((await remove(alice, third.message.id)).status).toBe(204);
    for (const user of [alice, bob]) {
      const seen = await conversation(user, conversationId);
      expect(seen.lastMessage).toMatchObject({ id: second.message.id, content: 'second' });
      expect(seen.lastMessageAt).toBe(second.message.createdAt);
    }
  });

  test('with no message left, lastMessage and lastMessageAt are null and the list orders the conversation by its createdAt', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const withBob = await app().api().post('/api/chat/conversations').set(bearer(alice)).send({ participantId: bob });
    expect(withBob.status).toBe(201);
    await aLaterMillisecond(10);
    const withCarol = await app().api().post('/api/chat/conversations').set(bearer(alice)).send({ participantId: carol });
    expect(withCarol.status).toBe(201);
    await aLaterMillisecond(10);
    const sent = await sendMessage(app(), alice, bob, 'only message');
    const listIds = async () => {
      const res = await app().api().get('/api/chat/conversations').set(bearer(alice));
      expect(res.status).toBe(200);
      return (res.body.conversations as { id: number }[]).map((c) => c.id);
    };
    const bobConversation = withBob.body.conversation.id as number;
    const carolConversation = withCarol.body.conversation.id as number;
    expect(await listIds()).toEqual([bobConversation, carolConversation]);

    expect((await remove(alice, sent.message.id)).status).toBe(204);
    for (const user of [alice, bob]) {
      const seen = await conversation(user, bobConversation);
      expect(seen.lastMessage).toBeNull();
      expect(seen.lastMessageAt).toBeNull();
      expect(seen.createdAt).toBe(withBob.body.conversation.createdAt);
    }
    // Bob's conversation was created before Carol's and is empty again: it goes back behind hers.
    expect(await listIds()).toEqual([carolConversation, bobConversation]);
  });

  test('deleting an unread message lowers the receiver\'s unread counts', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const kept = await sendMessage(app(), alice, bob, 'unread one');
    const doomed = await sendMessage(app(), alice, bob, 'unread two');
    await sendMessage(app(), carol, bob, 'from carol');
    const conversationId = kept.message.conversationId;
    expect((await conversation(bob, conversationId)).unreadCount).toBe(2);
    expect(await unreadTotal(bob)).toBe(3);

    expect((await remove(alice, doomed.message.id)).status).toBe(204);
    expect((await conversation(bob, conversationId)).unreadCount).toBe(1);
    expect(await unreadTotal(bob)).toBe(2);

    expect((await remove(alice, kept.message.id)).status).toBe(204);
    const counts = await app().api().get('/api/chat/unread-count').set(bearer(bob));
    expect(counts.body.total).toBe(1);
    expect(counts.body.conversations.map((c: { conversationId: number }) => c.conversationId)).not.toContain(conversationId);
    // The sender's own count is untouched.
    expect((await conversation(alice, conversationId)).unreadCount).toBe(0);
  });

  test('deleting a message that was already read does not change the counts', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const read = await sendMessage(app(), alice, bob, 'read already');
    const conversationId = read.message.conversationId;
    const marked = await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({});
    expect(marked.body.count).toBe(1);
    await sendMessage(app(), alice, bob, 'still unread');
    expect((await conversation(bob, conversationId)).unreadCount).toBe(1);

    expect((await remove(alice, read.message.id)).status).toBe(204);
    expect((await conversation(bob, conversationId)).unreadCount).toBe(1);
    expect(await unreadTotal(bob)).toBe(1);
  });

  test('the row stays in the table with deleted_at and deleted_by set', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'soft delete me');
    const before = Date.now();

    expect((await remove(alice, sent.message.id)).status).toBe(204);
    const [rows] = await app().chat.sequelize.query('SELECT content, deleted_at, deleted_by FROM messages WHERE id = :id', {
      replacements: { id: sent.message.id },
    });
    expect(rows).toHaveLength(1);
    const row = (rows as { content: string; deleted_at: Date | null; deleted_by: number | null }[])[0]!;
    expect(row.content).toBe('soft delete me');
    expect(row.deleted_by).toBe(alice);
    expect(row.deleted_at).toBeInstanceOf(Date);
    expect(Math.abs(row.deleted_at!.getTime() - before)).toBeLessThan(5_000);
  });

  test('deletes and mark-reads racing keep the unread counter exact', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const dave = await createUser(app().chat.sequelize, 'Dave');
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await sendMessage(app(), alice, bob, `m${i}`)).message.id);
    await sendMessage(app(), dave, bob, 'elsewhere');
    const conversationId = (await sendMessage(app(), bob, alice, 'reply')).message.conversationId;

    const work = [];
    for (let i = 0; i < ids.length; i += 2) {
      work.push(remove(alice, ids[i]!));
      work.push(app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({ upToMessageId: ids[i + 1] }));
    }
    const results = await Promise.all(work);
    expect(results.map((r) => r.status).filter((s) => s !== 200 && s !== 204)).toEqual([]);

    const [rows] = await app().chat.sequelize.query(
      `SELECT CASE WHEN c.participant_1_id = :bob THEN c.participant_1_unread ELSE c.participant_2_unread END AS counter,
              (SELECT count(*)::int FROM messages m
                WHERE m.conversation_id = c.id AND m.receiver_id = :bob AND NOT m.is_read AND m.deleted_at IS NULL) AS actual
         FROM conversations c WHERE c.id = :conversationId`,
      { replacements: { bob, conversationId } },
    );
    const { counter, actual } = (rows as { counter: number; actual: number }[])[0]!;
    expect(Number(counter)).toBe(Number(actual));
    expect(Number(actual)).toBe(0);
    expect(await historyIds(bob, conversationId)).toHaveLength(7);
    expect(await unreadTotal(bob)).toBe(1);
  });
});
