import type { ConversationJson } from '../../src/conversations/conversation.presenter';
import type { ErrorBody } from '../../src/shared/errors';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { connectAs, emitAck } from '../helpers/sockets';
import { bearer, useTestApp } from '../helpers/test-app';

/**
 * Privacy between strangers, conversation half (API.md, "Privacy between strangers"): a
 * conversation without any message yet is seen only by who opened it. Its other participant gets
 * what a stranger gets for an id that names nothing, on every door, until it holds a message or
 * they open it themselves; once it has held a message it stays visible to both.
 */

const app = useTestApp();

const open = (userId: number, participantId: number) =>
  app().api().post('/api/chat/conversations').set(bearer(userId)).send({ participantId });

async function listedIds(userId: number): Promise<number[]> {
  const res = await app().api().get('/api/chat/conversations').set(bearer(userId));
  expect(res.status).toBe(200);
  return (res.body.conversations as ConversationJson[]).map((c) => c.id);
}

const getConversation = (userId: number, id: number) => app().api().get(`/api/chat/conversations/${id}`).set(bearer(userId));

/** Alice opens a conversation with Bob and writes nothing. */
async function emptyConversation() {
  const cast = await createCast(app().chat.sequelize);
  const res = await open(cast.alice, cast.bob);
  expect(res.status).toBe(201);
  return { ...cast, conversationId: res.body.conversation.id as number };
}

/** Every REST route and socket event that names a conversation by id, each answer as { status | ok, code, message }. */
async function everyDoorAs(userId: number, conversationId: number) {
  const as = bearer(userId);
  const rest = {
    get: await app().api().get(`/api/chat/conversations/${conversationId}`).set(as),
    history: await app().api().get(`/api/chat/conversations/${conversationId}/messages`).set(as),
    read: await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(as).send({}),
    search: await app().api().get('/api/chat/search').query({ q: 'hello', conversationId }).set(as),
    send: await app().api().post('/api/chat/send').set(as).send({ conversationId, content: 'knock knock' }),
  };
  const socket = await connectAs(app(), userId);
  const events: [string, object][] = [
    ['join_conversation', { conversationId }],
    ['typing', { conversationId }],
    ['stop_typing', { conversationId }],
    ['mark_as_read', { conversationId }],
    ['message_delivered', { conversationId, upToMessageId: 1 }],
    ['send_message', { conversationId, content: 'knock knock' }],
  ];
  const acks: Record<string, unknown> = {};
  for (const [event, payload] of events) {
    const ack = await emitAck<{ ok: boolean; error?: ErrorBody }>(socket, event, payload);
    acks[event] = ack.ok ? 'ok' : { code: ack.error!.code, message: ack.error!.message };
  }
  socket.disconnect();
  return {
    rest: Object.fromEntries(Object.entries(rest).map(([door, res]) => [door, res.status < 300 ? res.status : { status: res.status, ...res.body.error }])),
    acks,
  };
}

const NOT_FOUND = { code: 'NOT_FOUND', message: 'Conversation not found' };

describe('a conversation without any message', () => {
  test('is listed for its creator only; the other side sees nothing, not even an unread count', async () => {
    const { alice, bob, conversationId } = await emptyConversation();

    expect(await listedIds(alice)).toEqual([conversationId]);
    expect((await getConversation(alice, conversationId)).status).toBe(200);
    expect(await listedIds(bob)).toEqual([]);
    expect((await getConversation(bob, conversationId)).body).toEqual({ error: NOT_FOUND });
    expect((await app().api().get('/api/chat/unread-count').set(bearer(bob))).body).toEqual({ total: 0, conversations: [] });
  });

  test('its other participant gets exactly what a stranger gets, and what an id of nothing gets, on every door', async () => {
    const { alice, bob, stranger, conversationId } = await emptyConversation();

    const hidden = await everyDoorAs(bob, conversationId);
    const expected = {
      rest: Object.fromEntries(['get', 'history', 'read', 'search', 'send'].map((door) => [door, { status: 404, ...NOT_FOUND }])),
      acks: Object.fromEntries(
        ['join_conversation', 'typing', 'stop_typing', 'mark_as_read', 'message_delivered', 'send_message'].map((e) => [e, NOT_FOUND]),
      ),
    };
    expect(hidden).toEqual(expected);
    expect(await everyDoorAs(stranger, conversationId)).toEqual(expected);
    expect(await everyDoorAs(bob, 999_999)).toEqual(expected);

    // Its creator is served on the same doors; her sends are its first messages, so Bob sees it now.
    expect(await everyDoorAs(alice, conversationId)).toEqual({
      rest: { get: 200, history: 200, read: 200, search: 200, send: 201 },
      acks: Object.fromEntries(
        ['join_conversation', 'typing', 'stop_typing', 'mark_as_read', 'message_delivered', 'send_message'].map((e) => [e, 'ok']),
      ),
    });
    expect(await listedIds(bob)).toEqual([conversationId]);
  });

  test('the other side opening it too answers 200 with the same conversation, listed for them from then on', async () => {
    const { alice, bob, conversationId } = await emptyConversation();
    expect(await listedIds(bob)).toEqual([]);

    const res = await open(bob, alice);

    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ id: conversationId, participant: { id: alice }, lastMessage: null, unreadCount: 0 });
    expect(await listedIds(bob)).toEqual([conversationId]);
    expect((await getConversation(bob, conversationId)).status).toBe(200);
    const b = await connectAs(app(), bob);
    expect(await emitAck(b, 'join_conversation', { conversationId })).toMatchObject({ ok: true, conversation: { id: conversationId } });
    // Opening it again changes nothing, for either side.
    expect((await open(bob, alice)).status).toBe(200);
    expect((await open(alice, bob)).status).toBe(200);
    expect(await listedIds(alice)).toEqual([conversationId]);
    expect(await listedIds(bob)).toEqual([conversationId]);
  });

  test('a first send by receiverId, from either side, makes it visible to both', async () => {
    const { alice, bob, conversationId } = await emptyConversation();

    const sent = await sendMessage(app(), bob, alice, 'you opened a chat with me?');

    expect(sent.conversation.id).toBe(conversationId);
    expect(await listedIds(bob)).toEqual([conversationId]);
    expect((await getConversation(bob, conversationId)).body.conversation).toMatchObject({ lastMessage: { id: sent.message.id } });
    expect(await listedIds(alice)).toEqual([conversationId]);
  });

  test('a conversation made by a first send is visible to both at once', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { conversation } = await sendMessage(app(), alice, bob, 'hi');
    expect(await listedIds(bob)).toEqual([conversation.id]);
  });
});

describe('a conversation that held a message', () => {
  test('stays listed for both, and open on every door, after all its messages are deleted and purged', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const admin = await createUser(app().chat.sequelize, 'Ada Admin');
    const kept = await sendMessage(app(), alice, bob, 'deleted, then purged');
    const purgedOnly = await sendMessage(app(), alice, bob, 'purged at once');
    const conversationId = kept.conversation.id;
    expect((await app().api().delete(`/api/chat/messages/${kept.message.id}`).set(bearer(alice))).status).toBe(204);
    for (const { message } of [kept, purgedOnly]) {
      const res = await app().api().delete(`/api/chat/admin/messages/${message.id}`).set(bearer(admin, { admin: true }));
      expect(res.status).toBe(204);
    }

    for (const userId of [alice, bob]) {
      expect(await listedIds(userId)).toEqual([conversationId]);
      expect((await getConversation(userId, conversationId)).body.conversation).toMatchObject({ lastMessage: null, unreadCount: 0 });
    }
    const doors = await everyDoorAs(bob, conversationId);
    expect(doors.rest).toEqual({ get: 200, history: 200, read: 200, search: 200, send: 201 });
    expect(Object.values(doors.acks).every((ack) => ack === 'ok')).toBe(true);
  });
});

describe('rows written by a node of the previous version (rolling deploy)', () => {
  test('a conversation and message written without the new columns are visible to both', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sequelize = app().chat.sequelize;
    // What the previous version's send wrote: the conversation with its defaults, the message, and
    // last_message_id, but not held_message.
    const [[conversation]] = (await sequelize.query(
      'INSERT INTO conversations (participant_1_id, participant_2_id) VALUES (:low, :high) RETURNING id, held_message',
      { replacements: { low: Math.min(alice, bob), high: Math.max(alice, bob) } },
    )) as [{ id: number; held_message: boolean }[], unknown];
    expect(conversation!.held_message).toBe(false);
    await sequelize.query(
      `WITH m AS (INSERT INTO messages (conversation_id, sender_id, receiver_id, content) VALUES (:id, :alice, :bob, 'old node') RETURNING id)
       UPDATE conversations SET last_message_id = (SELECT id FROM m) WHERE id = :id`,
      { replacements: { id: conversation!.id, alice, bob } },
    );

    expect(await listedIds(bob)).toEqual([conversation!.id]);
    expect(await listedIds(alice)).toEqual([conversation!.id]);
    const b = await connectAs(app(), bob);
    await connectAs(app(), alice);
    expect(await emitAck(b, 'get_online_status', { userIds: [alice] })).toEqual({
      ok: true,
      statuses: [{ userId: alice, online: true, lastSeenAt: null }],
    });
  });
});
