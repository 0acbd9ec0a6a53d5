import type { ConversationJson } from '../../src/conversations/conversation.presenter';
import type { MessageJson } from '../../src/messages/message.presenter';
import type { ErrorBody } from '../../src/shared/errors';
import { firstSendToBob, ISO, type Sent } from '../helpers/contract';
import { createCast, createUser, historyOf, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { bearer, type TestApp, useTestApp } from '../helpers/test-app';

/**
 * The Socket.IO half of the contract (API.md, "Socket.IO"): every client event's ack, every server
 * event's audience and payload, and parity with REST. Real PostgreSQL, real server, real clients.
 * Every scenario has two participants (alice, bob) and a connected stranger who must see nothing.
 */

const MISSING_ID = 999_999;

type AckOf<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

/** An event the client expects to succeed; fails the test with the error otherwise. */
async function ok<T extends object = object>(socket: ClientSocket, event: string, payload: unknown): Promise<{ ok: true } & T> {
  const response = await emitAck<AckOf<T>>(socket, event, payload);
  if (!response.ok) throw new Error(`${event} failed: ${JSON.stringify(response.error)}`);
  return response;
}

/** An event the client expects to fail; resolves with the ack's error. */
async function failure(socket: ClientSocket, event: string, payload: unknown): Promise<ErrorBody> {
  const response = await emitAck<AckOf<object>>(socket, event, payload);
  if (response.ok) throw new Error(`${event} unexpectedly succeeded: ${JSON.stringify(response)}`);
  expect(response).toEqual({ ok: false, error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
  return response.error;
}

/** Every event a socket receives, whatever its name. */
function recordAll(socket: ClientSocket): [string, unknown][] {
  const seen: [string, unknown][] = [];
  socket.onAny((event: string, payload: unknown) => seen.push([event, payload]));
  return seen;
}

/**
 * The cast, each with a connected socket. `before` runs first (REST writes whose events must not
 * leak into the test's recordings). The stranger's every event is recorded: it must stay empty.
 */
async function scene(t: TestApp, before?: (cast: { alice: number; bob: number; stranger: number }) => Promise<void>) {
  const cast = await createCast(t.chat.sequelize);
  if (before) await before(cast);
  const [a, b, s] = await Promise.all([connectAs(t, cast.alice), connectAs(t, cast.bob), connectAs(t, cast.stranger)]);
  return { ...cast, a, b, s, strangerSaw: recordAll(s) };
}

const openConversation = async (t: TestApp, userId: number, participantId: number): Promise<number> => {
  const res = await t.api().post('/api/chat/conversations').set(bearer(userId)).send({ participantId });
  expect(res.status).toBe(201);
  return res.body.conversation.id;
};

const conversationAs = async (t: TestApp, userId: number, conversationId: number): Promise<ConversationJson> => {
  const res = await t.api().get(`/api/chat/conversations/${conversationId}`).set(bearer(userId));
  expect(res.status).toBe(200);
  return res.body.conversation;
};

/** scene() once alice has sent bob these messages over REST; returns them too, oldest first. */
async function sceneAfterSends(t: TestApp, ...contents: string[]) {
  const messages: MessageJson[] = [];
  const cast = await scene(t, async ({ alice, bob }) => {
    for (const content of contents) messages.push((await sendMessage(t, alice, bob, content)).message);
  });
  return { ...cast, messages };
}

/**
 * Listens for what one send from alice to bob must produce: new_message on both sides and
 * message_notification on bob's side only (alice's notifications are recorded: they must stay empty).
 */
function sendEvents(a: ClientSocket, b: ClientSocket) {
  return {
    aliceNotified: record(a, 'message_notification'),
    toAlice: nextEvent<Sent>(a, 'new_message'),
    toBob: nextEvent<Sent>(b, 'new_message'),
    notified: nextEvent<Sent>(b, 'message_notification'),
  };
}

/** Alice types in the conversation and bob has heard it. */
async function typingHeard(a: ClientSocket, b: ClientSocket, conversationId: number): Promise<void> {
  const started = nextEvent(b, 'user_typing');
  await ok(a, 'typing', { conversationId });
  await started;
}

/** Keys and value types, recursively: "the same result shape" whatever the ids and times. */
function shapeOf(value: unknown): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as object).map(([key, inner]) => [key, shapeOf(inner)]));
  }
  return typeof value;
}

const withoutOk = <T extends { ok: true }>({ ok: _ok, ...data }: T) => data;

describe('client events answer through the ack', () => {
  const app = useTestApp();

  describe('join_conversation and leave_conversation', () => {
    test('a participant who joins gets the conversation as they see it', async () => {
      const { alice, bob, b, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hi bob');

      const ack = await ok<{ conversation: ConversationJson }>(b, 'join_conversation', { conversationId });

      expect(ack).toEqual({ ok: true, conversation: await conversationAs(app(), bob, conversationId) });
      expect(ack.conversation).toMatchObject({ id: conversationId, participant: { id: alice, name: 'Alice' }, unreadCount: 1 });
    });

    test('a stranger who joins a conversation gets NOT_FOUND, as does anyone joining one that does not exist', async () => {
      const { alice, bob, a, s } = await scene(app());
      const conversationId = await openConversation(app(), alice, bob);

      expect(await failure(s, 'join_conversation', { conversationId })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await failure(a, 'join_conversation', { conversationId: MISSING_ID })).toMatchObject({ code: 'NOT_FOUND' });
    });

    test('a stranger who joined nothing still receives nothing of the conversation', async () => {
      const { alice, bob, b, s, strangerSaw } = await scene(app());
      const conversationId = await openConversation(app(), alice, bob);
      await failure(s, 'join_conversation', { conversationId });

      const received = nextEvent(b, 'new_message');
      await sendMessage(app(), alice, bob, 'private');
      await received;
      await letStrayEventsArrive();
      expect(strangerSaw).toEqual([]);
    });

    test('a malformed conversation id is VALIDATION_FAILED', async () => {
      const { a } = await scene(app());
      for (const conversationId of ['abc', 0, -1, 1.5, null, { id: 1 }]) {
        expect(await failure(a, 'join_conversation', { conversationId })).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(await failure(a, 'join_conversation', {})).toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    test('leave_conversation acks {} and the socket still receives new_message through its user room', async () => {
      const { alice, bob, b, strangerSaw, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
      await ok(b, 'join_conversation', { conversationId });

      expect(await ok(b, 'leave_conversation', { conversationId })).toEqual({ ok: true });
      expect(await failure(b, 'leave_conversation', { conversationId: 'abc' })).toMatchObject({ code: 'VALIDATION_FAILED' });

      const received = nextEvent<Sent>(b, 'new_message');
      await sendMessage(app(), alice, bob, 'still here?');
      expect((await received).message.content).toBe('still here?');
      await letStrayEventsArrive();
      expect(strangerSaw).toEqual([]);
    });
  });

  describe('send_message', () => {
    test('a send by receiverId acks { message, conversation } with the conversation as the sender sees it', async () => {
      const { alice, bob, a } = await scene(app());

      const ack = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'hello Bob' });

      expect(Object.keys(ack).sort()).toEqual(['conversation', 'message', 'ok']);
      const expected = firstSendToBob(ack, alice, bob, 'hello Bob');
      expect(ack.message).toEqual(expected.message);
      expect(ack.conversation).toEqual(expected.conversation);
      expect(await historyOf(app(), bob, ack.conversation.id)).toEqual([ack.message]);
    });

    test('a send by conversationId goes to the other participant', async () => {
      const { alice, bob, b, a } = await scene(app());
      // Alice opened it, so she sees it while it is empty; Bob will once it holds her message.
      const conversationId = await openConversation(app(), alice, bob);
      const received = nextEvent<Sent>(b, 'new_message');

      const ack = await ok<Sent>(a, 'send_message', { conversationId, content: 'by conversation' });

      expect(ack.message).toMatchObject({ conversationId, senderId: alice, receiverId: bob, content: 'by conversation' });
      expect(ack.conversation).toMatchObject({ id: conversationId, participant: { id: bob }, unreadCount: 0 });
      expect((await received).message).toEqual(ack.message);
    });

    test('a stranger who sends into a conversation by its id gets NOT_FOUND and nothing is stored', async () => {
      const { alice, bob, s } = await scene(app());
      const conversationId = await openConversation(app(), alice, bob);

      expect(await failure(s, 'send_message', { conversationId, content: 'let me in' })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await historyOf(app(), alice, conversationId)).toEqual([]);
    });

    test('a retried clientMessageId returns the same message, stores it once and announces it once', async () => {
      const { bob, a, b, strangerSaw } = await scene(app());
      const bobSaw = record<Sent>(b, 'new_message');
      const announced = nextEvent(b, 'new_message');

      const first = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'once', clientMessageId: 'c0ffee-1' });
      await announced;
      const retry = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'once', clientMessageId: 'c0ffee-1' });

      expect(retry.message).toEqual(first.message);
      expect(retry.message.clientMessageId).toBe('c0ffee-1');
      expect(retry.conversation.id).toBe(first.conversation.id);
      expect((await historyOf(app(), bob, first.conversation.id)).map((m) => m.id)).toEqual([first.message.id]);
      await letStrayEventsArrive();
      expect(bobSaw).toHaveLength(1);
      expect(strangerSaw).toEqual([]);
    });

    test('the same clientMessageId with different content is CONFLICT', async () => {
      const { bob, a } = await scene(app());
      const first = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'original', clientMessageId: 'dup-1' });

      expect(await failure(a, 'send_message', { receiverId: bob, content: 'changed', clientMessageId: 'dup-1' })).toMatchObject({
        code: 'CONFLICT',
      });
      expect((await historyOf(app(), bob, first.conversation.id)).map((m) => m.content)).toEqual(['original']);
    });

    test('sending to oneself, blank content or content over the limit is VALIDATION_FAILED', async () => {
      const { alice, bob, a } = await scene(app());
      const invalid = [
        { receiverId: alice, content: 'note to self' },
        { receiverId: bob, content: '   \n\t' },
        { receiverId: bob, content: '' },
        { receiverId: bob },
        { receiverId: bob, content: 'x'.repeat(4001) },
        { receiverId: 'bob', content: 'hi' },
        { content: 'to nobody' },
      ];
      for (const payload of invalid) {
        expect(await failure(a, 'send_message', payload)).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      // The limit counts code points: 4000 emoji (8000 UTF-16 units) are within it.
      const atLimit = await ok<Sent>(a, 'send_message', { receiverId: bob, content: '😀'.repeat(4000) });
      expect(atLimit.message.senderId).toBe(alice);
    });

    test('a receiver who is not a user is NOT_FOUND', async () => {
      const { a } = await scene(app());
      expect(await failure(a, 'send_message', { receiverId: MISSING_ID, content: 'anyone?' })).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('typing and stop_typing', () => {
    test('typing and stop_typing ack {} and only the other participant hears user_typing', async () => {
      const { alice, a, b, strangerSaw, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
      const aliceSaw = record(a, 'user_typing');

      const started = nextEvent(b, 'user_typing');
      expect(await ok(a, 'typing', { conversationId })).toEqual({ ok: true });
      expect(await started).toEqual({ conversationId, userId: alice, isTyping: true });

      const stopped = nextEvent(b, 'user_typing');
      expect(await ok(a, 'stop_typing', { conversationId })).toEqual({ ok: true });
      expect(await stopped).toEqual({ conversationId, userId: alice, isTyping: false });

      await letStrayEventsArrive();
      expect(aliceSaw).toEqual([]);
      expect(strangerSaw).toEqual([]);
    });

    test('a stranger who types or stops typing gets NOT_FOUND and nobody hears it', async () => {
      const { alice, a, b, s, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
      const aliceHeard = record(a, 'user_typing');
      const bobHeard = record(b, 'user_typing');

      expect(await failure(s, 'typing', { conversationId })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await failure(s, 'stop_typing', { conversationId })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await failure(a, 'typing', { conversationId: MISSING_ID })).toMatchObject({ code: 'NOT_FOUND' });

      // Delivery works: bob hears alice.
      await typingHeard(a, b, conversationId);
      await letStrayEventsArrive();
      expect(aliceHeard).toEqual([]);
      expect(bobHeard).toEqual([{ conversationId, userId: alice, isTyping: true }]);
    });
  });

  describe('mark_as_read', () => {
    test('acks { conversationId, readAt, count } and both participants get messages_read with the highest id marked', async () => {
      const sent: Sent[] = [];
      const { alice, bob, a, b, strangerSaw } = await scene(app(), async ({ alice, bob }) => {
        sent.push(await sendMessage(app(), alice, bob, 'one'));
        sent.push(await sendMessage(app(), alice, bob, 'two'));
        sent.push(await sendMessage(app(), bob, alice, 'bob writes last'));
      });
      const conversationId = sent[0]!.message.conversationId;
      const toAlice = nextEvent(a, 'messages_read');
      const toBob = nextEvent(b, 'messages_read');

      const ack = await ok<{ conversationId: number; readAt: string; count: number }>(b, 'mark_as_read', { conversationId });

      expect(ack).toEqual({ ok: true, conversationId, readAt: expect.stringMatching(ISO), count: 2 });
      // Bob's own message has the highest id but is not his to read.
      const expected = { conversationId, readerId: bob, upToMessageId: sent[1]!.message.id, readAt: ack.readAt, count: 2 };
      expect(await toAlice).toEqual(expected);
      expect(await toBob).toEqual(expected);
      expect((await conversationAs(app(), bob, conversationId)).unreadCount).toBe(0);
      expect((await conversationAs(app(), alice, conversationId)).unreadCount).toBe(1);
      await letStrayEventsArrive();
      expect(strangerSaw).toEqual([]);
    });

    test('upToMessageId marks only up to that message', async () => {
      const { bob, a, b, messages: [first, second] } = await sceneAfterSends(app(), 'one', 'two');
      const aliceSaw = record(a, 'messages_read');

      const partly = nextEvent(a, 'messages_read');
      expect(await ok(b, 'mark_as_read', { conversationId: first.conversationId, upToMessageId: first.id })).toMatchObject({ count: 1 });
      expect(await partly).toMatchObject({ readerId: bob, upToMessageId: first.id, count: 1 });

      const rest = nextEvent(a, 'messages_read');
      expect(await ok(b, 'mark_as_read', { conversationId: first.conversationId })).toMatchObject({ count: 1 });
      expect(await rest).toMatchObject({ readerId: bob, upToMessageId: second.id, count: 1 });

      // Idempotent: nothing left to mark, nothing announced.
      expect(await ok(b, 'mark_as_read', { conversationId: first.conversationId })).toMatchObject({ count: 0 });
      await letStrayEventsArrive();
      expect(aliceSaw).toHaveLength(2);
    });
  });

  describe('message_delivered', () => {
    test('acks { conversationId, deliveredAt, count }, tells only the sender, and a repeat counts 0', async () => {
      const { alice, bob, a, b, strangerSaw, messages } = await sceneAfterSends(app(), 'one', 'two');
      const { conversationId, id: upToMessageId } = messages[1]!;
      const aliceSaw = record(a, 'messages_delivered');
      const bobSaw = record(b, 'messages_delivered');
      const toAlice = nextEvent(a, 'messages_delivered');

      const ack = await ok<{ deliveredAt: string }>(b, 'message_delivered', { conversationId, upToMessageId });

      expect(ack).toEqual({ ok: true, conversationId, deliveredAt: expect.stringMatching(ISO), count: 2 });
      expect(await toAlice).toEqual({ conversationId, receiverId: bob, upToMessageId, deliveredAt: ack.deliveredAt, count: 2 });
      expect((await historyOf(app(), alice, conversationId)).map((m) => m.deliveredAt)).toEqual([ack.deliveredAt, ack.deliveredAt]);

      expect(await ok(b, 'message_delivered', { conversationId, upToMessageId })).toEqual({
        ok: true,
        conversationId,
        deliveredAt: expect.stringMatching(ISO),
        count: 0,
      });
      await letStrayEventsArrive();
      expect(aliceSaw).toHaveLength(1);
      expect(bobSaw).toEqual([]);
      expect(strangerSaw).toEqual([]);
    });

    test('message_delivered without upToMessageId is VALIDATION_FAILED; a stranger gets NOT_FOUND', async () => {
      const { b, s, messages: [{ conversationId, id: upToMessageId }] } = await sceneAfterSends(app(), 'one');

      expect(await failure(b, 'message_delivered', { conversationId })).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await failure(b, 'message_delivered', { conversationId, upToMessageId: 'latest' })).toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(await failure(s, 'message_delivered', { conversationId, upToMessageId })).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('delete_message', () => {
    test('the sender deletes: ack {} and both participants get message_deleted', async () => {
      const { bob, a, b, strangerSaw, messages: [{ id: messageId, conversationId }] } = await sceneAfterSends(app(), 'oops');
      const toAlice = nextEvent(a, 'message_deleted');
      const toBob = nextEvent(b, 'message_deleted');

      expect(await ok(a, 'delete_message', { messageId })).toEqual({ ok: true });

      expect(await toAlice).toEqual({ messageId, conversationId });
      expect(await toBob).toEqual({ messageId, conversationId });
      expect(await historyOf(app(), bob, conversationId)).toEqual([]);
      await letStrayEventsArrive();
      expect(strangerSaw).toEqual([]);
    });

    test('the receiver gets FORBIDDEN, the stranger NOT_FOUND, and the message stays', async () => {
      const { bob, a, b, s, messages: [message] } = await sceneAfterSends(app(), 'keep me');
      const aliceSaw = record(a, 'message_deleted');

      expect(await failure(b, 'delete_message', { messageId: message.id })).toMatchObject({ code: 'FORBIDDEN' });
      expect(await failure(s, 'delete_message', { messageId: message.id })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await failure(a, 'delete_message', { messageId: MISSING_ID })).toMatchObject({ code: 'NOT_FOUND' });
      expect(await failure(a, 'delete_message', { messageId: 'abc' })).toMatchObject({ code: 'VALIDATION_FAILED' });

      expect((await historyOf(app(), bob, message.conversationId)).map((m) => m.id)).toEqual([message.id]);
      // Alice's own acks came after the refused deletes on her connection: an event would be here already.
      expect(aliceSaw).toEqual([]);
    });
  });

  describe('get_online_status', () => {
    test('answers one status per requested id, in the order asked', async () => {
      const { alice, bob, stranger, a } = await sceneAfterSends(app(), 'hello');
      const offline = await createUser(app().chat.sequelize, 'Dave');

      const ack = await ok<{ statuses: { userId: number; online: boolean; lastSeenAt: string | null }[] }>(a, 'get_online_status', {
        userIds: [bob, MISSING_ID, offline, stranger, alice],
      });

      expect(Object.keys(ack).sort()).toEqual(['ok', 'statuses']);
      expect(ack.statuses.map(({ userId, online }) => [userId, online])).toEqual([
        [bob, true],
        [MISSING_ID, false],
        [offline, false],
        // Online, but Alice has exchanged no message with them (see the privacy suite).
        [stranger, false],
        [alice, true],
      ]);
      for (const status of ack.statuses) {
        expect(Object.keys(status).sort()).toEqual(['lastSeenAt', 'online', 'userId']);
        expect(status.lastSeenAt === null || ISO.test(status.lastSeenAt)).toBe(true);
      }
      expect(ack.statuses[1]!.lastSeenAt).toBeNull();
    });

    test('up to 100 ids are answered; more than 100 or a non-array is VALIDATION_FAILED', async () => {
      const { a } = await scene(app());
      const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

      expect((await ok<{ statuses: unknown[] }>(a, 'get_online_status', { userIds: hundred })).statuses).toHaveLength(100);
      for (const userIds of [[...hundred, 101], 'abc', 5, { 0: 1 }, null, ['x']]) {
        expect(await failure(a, 'get_online_status', { userIds })).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(await failure(a, 'get_online_status', {})).toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });
});

describe('server events reach exactly the right sockets', () => {
  const app = useTestApp();

  test('new_message reaches both participants with their own view; message_notification only the receiver', async () => {
    const { alice, bob, a, b, strangerSaw } = await scene(app());
    const { aliceNotified, toAlice, toBob, notified } = sendEvents(a, b);

    const ack = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'ping' });

    const bobEvent = await toBob;
    expect(bobEvent.message).toEqual(ack.message);
    expect(bobEvent.conversation).toEqual({
      ...ack.conversation,
      participant: { id: alice, name: 'Alice', avatarUrl: null },
      unreadCount: 1,
    });
    expect(await toAlice).toEqual({ message: ack.message, conversation: ack.conversation });
    expect(ack.conversation.unreadCount).toBe(0);
    expect(await notified).toEqual(bobEvent);
    await letStrayEventsArrive();
    expect(aliceNotified).toEqual([]);
    expect(strangerSaw).toEqual([]);
  });

  test('each socket of both participants gets each new_message once, joined to conversation_<id> or not', async () => {
    const { alice, bob, a, b, strangerSaw, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
    const [a2, b2] = await Promise.all([connectAs(app(), alice), connectAs(app(), bob)]);
    await ok(b, 'join_conversation', { conversationId });
    await ok(a, 'join_conversation', { conversationId });
    const sockets = { a, a2, b, b2 };
    const messages = Object.fromEntries(Object.entries(sockets).map(([name, socket]) => [name, record<Sent>(socket, 'new_message')]));
    const notifications = Object.fromEntries(
      Object.entries(sockets).map(([name, socket]) => [name, record<Sent>(socket, 'message_notification')]),
    );

    const overSocket = Object.values(sockets).map((socket) => nextEvent(socket, 'new_message'));
    const first = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'from the socket' });
    await Promise.all(overSocket);
    const overRest = Object.values(sockets).map((socket) => nextEvent(socket, 'new_message'));
    const second = await sendMessage(app(), alice, bob, 'from REST');
    await Promise.all(overRest);
    await letStrayEventsArrive();

    const ids = [first.message.id, second.message.id];
    for (const name of Object.keys(sockets)) expect([name, messages[name]!.map((e) => e.message.id)]).toEqual([name, ids]);
    expect(notifications.b!.map((e) => e.message.id)).toEqual(ids);
    expect(notifications.b2!.map((e) => e.message.id)).toEqual(ids);
    expect(notifications.a).toEqual([]);
    expect(notifications.a2).toEqual([]);
    expect(strangerSaw).toEqual([]);
  });

  test('a tab that joined and a tab that did not both get messages_read, messages_delivered and message_deleted once', async () => {
    const { alice, bob, a, b, strangerSaw, messages: [{ conversationId, id: messageId }] } = await sceneAfterSends(app(), 'hello');
    const a2 = await connectAs(app(), alice);
    await ok(a, 'join_conversation', { conversationId });
    const seen = (event: string) => [record(a, event), record(a2, event)];
    const [read, delivered, deleted] = [seen('messages_read'), seen('messages_delivered'), seen('message_deleted')];

    const lastDeleted = nextEvent(a2, 'message_deleted');
    await ok(b, 'message_delivered', { conversationId, upToMessageId: messageId });
    await ok(b, 'mark_as_read', { conversationId });
    await ok(a, 'delete_message', { messageId });
    await lastDeleted;
    await letStrayEventsArrive();

    for (const [event, perTab] of [['messages_read', read], ['messages_delivered', delivered], ['message_deleted', deleted]] as const) {
      expect([event, perTab!.map((list) => list.length)]).toEqual([event, [1, 1]]);
    }
    expect(read[0]![0]).toMatchObject({ readerId: bob, upToMessageId: messageId, count: 1 });
    expect(strangerSaw).toEqual([]);
  });
});

describe('REST writes emit the socket events', () => {
  const app = useTestApp();

  test('POST /send emits new_message to both participants and message_notification to the receiver', async () => {
    const { alice, bob, a, b, strangerSaw } = await scene(app());
    const { aliceNotified, toAlice, toBob, notified } = sendEvents(a, b);

    const res = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'over REST' });

    expect(res.status).toBe(201);
    expect(await toAlice).toEqual(res.body);
    const bobEvent = await toBob;
    expect(bobEvent.message).toEqual(res.body.message);
    expect(bobEvent.conversation).toMatchObject({ id: res.body.conversation.id, participant: { id: alice }, unreadCount: 1 });
    expect(await notified).toEqual(bobEvent);
    await letStrayEventsArrive();
    expect(aliceNotified).toEqual([]);
    expect(strangerSaw).toEqual([]);
  });

  test('POST /conversations/:id/read emits messages_read to both participants', async () => {
    const { bob, a, b, strangerSaw, messages: [{ conversationId, id }] } = await sceneAfterSends(app(), 'read me');
    const toAlice = nextEvent(a, 'messages_read');
    const toBob = nextEvent(b, 'messages_read');

    const res = await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({});

    expect(res.status).toBe(200);
    const expected = { conversationId, readerId: bob, upToMessageId: id, readAt: res.body.readAt, count: 1 };
    expect(await toAlice).toEqual(expected);
    expect(await toBob).toEqual(expected);
    await letStrayEventsArrive();
    expect(strangerSaw).toEqual([]);
  });

  test('DELETE /messages/:id emits message_deleted to both participants', async () => {
    const { alice, a, b, strangerSaw, messages: [{ conversationId, id: messageId }] } = await sceneAfterSends(app(), 'delete me');
    const toAlice = nextEvent(a, 'message_deleted');
    const toBob = nextEvent(b, 'message_deleted');

    const res = await app().api().delete(`/api/chat/messages/${messageId}`).set(bearer(alice));

    expect(res.status).toBe(204);
    expect(await toAlice).toEqual({ messageId, conversationId });
    expect(await toBob).toEqual({ messageId, conversationId });
    await letStrayEventsArrive();
    expect(strangerSaw).toEqual([]);
  });
});

describe('typing state', () => {
  const app = useTestApp();

  test('only changes are broadcast: three typing in a row announce isTyping true once', async () => {
    const { alice, a, b, strangerSaw, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
    const bobHeard = record<{ isTyping: boolean }>(b, 'user_typing');

    for (let i = 0; i < 3; i++) await ok(a, 'typing', { conversationId });
    const stopped = nextEvent(b, 'user_typing');
    // The true was announced first, so a false that arrives proves the earlier ones had their chance.
    await ok(a, 'stop_typing', { conversationId });
    await stopped;
    await letStrayEventsArrive();

    expect(bobHeard).toEqual([
      { conversationId, userId: alice, isTyping: true },
      { conversationId, userId: alice, isTyping: false },
    ]);
    expect(strangerSaw).toEqual([]);
  });

  test('a message sent over the socket ends the sender\'s typing', async () => {
    const { alice, a, b, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
    await typingHeard(a, b, conversationId);

    const stopped = nextEvent(b, 'user_typing');
    await ok(a, 'send_message', { conversationId, content: 'done typing' });
    expect(await stopped).toEqual({ conversationId, userId: alice, isTyping: false });
  });

  test('a message sent over REST ends the sender\'s typing too', async () => {
    const { alice, bob, a, b, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
    await typingHeard(a, b, conversationId);

    const stopped = nextEvent(b, 'user_typing');
    await sendMessage(app(), alice, bob, 'sent from another device');
    expect(await stopped).toEqual({ conversationId, userId: alice, isTyping: false });
  });

  test('disconnecting the typing socket ends typing; closing another tab of the user does not', async () => {
    const { alice, a, b, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
    const otherTab = await connectAs(app(), alice);
    const bobHeard = record<{ isTyping: boolean }>(b, 'user_typing');
    await typingHeard(a, b, conversationId);

    otherTab.disconnect();
    await letStrayEventsArrive();
    expect(bobHeard.map((e) => e.isTyping)).toEqual([true]);

    const stopped = nextEvent(b, 'user_typing');
    a.disconnect();
    expect(await stopped).toEqual({ conversationId, userId: alice, isTyping: false });
    // The other tab left first, so a false of its own would have come before this one.
    expect(bobHeard.map((e) => e.isTyping)).toEqual([true, false]);
  });
});

describe('typing state with a short expiry', () => {
  const TTL_MS = 300;
  const app = useTestApp({ realtime: { typingTtlMs: TTL_MS } });

  test('typing ends by itself ttl after the last typing event', async () => {
    const { alice, a, b, strangerSaw, messages: [{ conversationId }] } = await sceneAfterSends(app(), 'hello');
    const bobHeard = record<{ isTyping: boolean }>(b, 'user_typing');
    await typingHeard(a, b, conversationId);

    // A second typing half-way pushes the expiry back.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS / 2));
    const stopped = nextEvent(b, 'user_typing', 3 * TTL_MS);
    const lastTypingAt = Date.now();
    await ok(a, 'typing', { conversationId });

    expect(await stopped).toEqual({ conversationId, userId: alice, isTyping: false });
    expect(Date.now() - lastTypingAt).toBeGreaterThanOrEqual(TTL_MS - 10);
    expect(bobHeard.map((e) => e.isTyping)).toEqual([true, false]);
    expect(strangerSaw).toEqual([]);
  });
});

describe('sending is rate limited per user', () => {
  const app = useTestApp({ limits: { rates: { send: { burst: 2, perSecond: 1 } } } });

  test('past the budget, shared by REST and the socket, a send is RATE_LIMITED with retryAfterMs and announces nothing', async () => {
    const { alice, bob, a, b, strangerSaw } = await scene(app());
    const bobSaw = record(b, 'new_message');
    const delivered = nextEvent(b, 'new_message');
    await sendMessage(app(), alice, bob, 'one over REST');
    await ok(a, 'send_message', { receiverId: bob, content: 'two over the socket' });

    const error = await failure(a, 'send_message', { receiverId: bob, content: 'three is too many' });

    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(1000);
    const rest = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'and over REST' });
    expect(rest.status).toBe(429);
    expect(rest.body.error.code).toBe('RATE_LIMITED');
    expect(rest.headers['retry-after']).toBe('1');
    await delivered;
    await letStrayEventsArrive();
    expect(bobSaw).toHaveLength(2);
    expect(strangerSaw).toEqual([]);
  });
});

describe('REST and the socket give the same result for the same command', () => {
  const app = useTestApp();

  test('send: the same result shape, one dedupe, and the same error code for a conflict, a send to oneself or to nobody', async () => {
    const { alice, bob, a } = await scene(app());
    const send = (body: object) => app().api().post('/api/chat/send').set(bearer(alice)).send(body);

    const rest = await send({ receiverId: bob, content: 'over REST' });
    const socket = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'over the socket' });
    expect(rest.status).toBe(201);
    expect(shapeOf(withoutOk(socket))).toEqual(shapeOf(rest.body));
    expect(socket.conversation.id).toBe(rest.body.conversation.id);

    // One dedupe for both doors: a clientMessageId first used over REST is the same message over the socket.
    const original = await send({ receiverId: bob, content: 'deduped', clientMessageId: 'both-doors' });
    const retriedOverSocket = await ok<Sent>(a, 'send_message', { receiverId: bob, content: 'deduped', clientMessageId: 'both-doors' });
    const retriedOverRest = await send({ receiverId: bob, content: 'deduped', clientMessageId: 'both-doors' });
    expect([original.status, retriedOverRest.status]).toEqual([201, 200]);
    expect(retriedOverSocket.message).toEqual(original.body.message);
    expect(retriedOverRest.body.message).toEqual(original.body.message);
    const conflictOverRest = await send({ receiverId: bob, content: 'not the same', clientMessageId: 'both-doors' });
    expect([conflictOverRest.status, conflictOverRest.body.error.code]).toEqual([409, 'CONFLICT']);
    expect((await failure(a, 'send_message', { receiverId: bob, content: 'not the same', clientMessageId: 'both-doors' })).code).toBe(
      'CONFLICT',
    );

    for (const [body, status, code] of [
      [{ receiverId: alice, content: 'me' }, 400, 'VALIDATION_FAILED'],
      [{ receiverId: bob, content: ' ' }, 400, 'VALIDATION_FAILED'],
      [{ receiverId: MISSING_ID, content: 'who?' }, 404, 'NOT_FOUND'],
    ] as const) {
      const res = await send(body);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
      expect((await failure(a, 'send_message', body)).code).toBe(code);
    }
  });

  test('mark read: the same result shape, and NOT_FOUND for a stranger both ways', async () => {
    const { bob, stranger, b, s, messages: [{ conversationId, id: firstId }] } = await sceneAfterSends(app(), 'one', 'two');
    const markOverRest = (userId: number, body: object) =>
      app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(userId)).send(body);

    const rest = await markOverRest(bob, { upToMessageId: firstId });
    const socket = await ok(b, 'mark_as_read', { conversationId });
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ conversationId, readAt: expect.stringMatching(ISO), count: 1 });
    expect(withoutOk(socket)).toEqual({ conversationId, readAt: expect.stringMatching(ISO), count: 1 });

    const strangerRest = await markOverRest(stranger, {});
    expect([strangerRest.status, strangerRest.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await failure(s, 'mark_as_read', { conversationId })).code).toBe('NOT_FOUND');
    const badRest = await markOverRest(bob, { upToMessageId: 'x' });
    expect([badRest.status, badRest.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await failure(b, 'mark_as_read', { conversationId, upToMessageId: 'x' })).code).toBe('VALIDATION_FAILED');
  });

  test('delete: success both ways, FORBIDDEN for the receiver and NOT_FOUND for a stranger or a deleted message both ways', async () => {
    const { alice, bob, stranger, a, b, s, messages } = await sceneAfterSends(app(), 'one', 'two', 'three');
    const [one, two, three] = messages.map((m) => m.id) as [number, number, number];
    const deleteOverRest = (userId: number, id: number) => app().api().delete(`/api/chat/messages/${id}`).set(bearer(userId));

    expect((await deleteOverRest(alice, one)).status).toBe(204);
    expect(await ok(a, 'delete_message', { messageId: two })).toEqual({ ok: true });

    for (const [userId, socket, id, status, code] of [
      [bob, b, three, 403, 'FORBIDDEN'],
      [stranger, s, three, 404, 'NOT_FOUND'],
      [alice, a, one, 404, 'NOT_FOUND'],
    ] as const) {
      const res = await deleteOverRest(userId, id);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
      expect((await failure(socket, 'delete_message', { messageId: id })).code).toBe(code);
    }
    expect((await historyOf(app(), bob, messages[0]!.conversationId)).map((m) => m.id)).toEqual([three]);
  });

  test('open and get a conversation over REST give what join_conversation gives; the same errors both ways', async () => {
    const { alice, bob, stranger, b, s } = await sceneAfterSends(app(), 'hi');
    const opened = await app().api().post('/api/chat/conversations').set(bearer(bob)).send({ participantId: alice });
    expect(opened.status).toBe(200);
    const conversationId: number = opened.body.conversation.id;
    const got = await app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(bob));

    const joined = await ok<{ conversation: ConversationJson }>(b, 'join_conversation', { conversationId });

    expect(withoutOk(joined)).toEqual(got.body);
    expect(withoutOk(joined)).toEqual(opened.body);
    expect(joined.conversation.unreadCount).toBe(1);

    for (const [userId, socket, id, status, code] of [
      [stranger, s, conversationId, 404, 'NOT_FOUND'],
      [bob, b, MISSING_ID, 404, 'NOT_FOUND'],
      [bob, b, 'abc', 400, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await app().api().get(`/api/chat/conversations/${id}`).set(bearer(userId));
      expect([res.status, res.body.error.code]).toEqual([status, code]);
      expect((await failure(socket, 'join_conversation', { conversationId: id })).code).toBe(code);
    }
  });
});
