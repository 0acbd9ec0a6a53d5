import type { ErrorBody } from '../../src/shared/errors';
import type { RateClass } from '../../src/limits/rate-classes';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { connectAs, emitAck } from '../helpers/sockets';
import { bearer, type TestApp, useAppPerTest } from '../helpers/test-app';

/**
 * API.md "Fair use" and its clarifications: which door takes which class, all-or-none charges,
 * exemptions and SOCKET_MAX_PENDING. The floods are in hostile-floods.test.ts.
 */
type Ack = { ok: boolean; error?: ErrorBody };

/** Every class with a burst of 2 and a refill slow enough not to matter within a test. */
const TWO_EACH = Object.fromEntries(
  (['send', 'conversation', 'receipt', 'typing', 'read', 'upload'] as RateClass[]).map((c) => [c, { burst: 2, perSecond: 0.01 }]),
);

describe('fair use: one bucket per user and class, shared by REST and the socket', () => {
  const app = useAppPerTest({ limits: { rates: TWO_EACH, exemptUserIds: [] } });
  let cast: { alice: number; bob: number; stranger: number };
  let conversationId: number;

  beforeEach(async () => {
    cast = await createCast(app().chat.sequelize);
    conversationId = (await sendMessage(app(), cast.alice, cast.bob, 'hello')).conversation.id; // one send token of alice's
  });

  function expectRefusedOverRest(res: { status: number; headers: Record<string, string>; body: { error: ErrorBody } }): void {
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    expect(res.body.error.retryAfterMs).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBe(Math.ceil(res.body.error.retryAfterMs! / 1000));
  }

  test('a read over REST and a read over the socket share one bucket; the third is refused on either door', async () => {
    const socket = await connectAs(app(), cast.bob);
    expect((await app().api().get('/api/chat/conversations').set(bearer(cast.bob))).status).toBe(200);
    expect((await emitAck<Ack>(socket, 'get_online_status', { userIds: [cast.alice] })).ok).toBe(true);
    expectRefusedOverRest(await app().api().get('/api/chat/unread-count').set(bearer(cast.bob)));
    const ack = await emitAck<Ack>(socket, 'join_conversation', { conversationId });
    expect(ack).toEqual({ ok: false, error: { code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) } });
    // Another user's bucket is untouched.
    expect((await app().api().get('/api/chat/conversations').set(bearer(cast.alice))).status).toBe(200);
  });

  test.each([
    ['receipt', (t: TestApp, user: number, id: number) => t.api().post(`/api/chat/conversations/${id}/read`).set(bearer(user)).send({})],
    ['read', (t: TestApp, user: number, id: number) => t.api().get(`/api/chat/conversations/${id}/messages`).set(bearer(user))],
    ['send', (t: TestApp, user: number) => t.api().delete('/api/chat/messages/999999').set(bearer(user))],
    ['upload', (t: TestApp, user: number) => t.api().post('/api/chat/attachments').set(bearer(user)).attach('file', Buffer.from('hi'), 'a.txt')],
  ])('REST %s: the burst passes, the next call is RATE_LIMITED with Retry-After', async (_class, call) => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call(app(), cast.bob, conversationId));
    expect(answers.slice(0, 2).map((r) => r.status)).not.toContain(429);
    expectRefusedOverRest(answers[2]!);
  });

  test('each socket event takes its class: typing and stop_typing share the typing bucket; receipts theirs', async () => {
    const socket = await connectAs(app(), cast.bob);
    const typing = [];
    for (const event of ['typing', 'stop_typing', 'typing']) typing.push(await emitAck<Ack>(socket, event, { conversationId }));
    expect(typing.map((a) => a.ok)).toEqual([true, true, false]);
    const receipts = [];
    for (const event of ['mark_as_read', 'message_delivered', 'mark_as_read']) receipts.push(await emitAck<Ack>(socket, event, { conversationId, upToMessageId: 1 }));
    expect(receipts.map((a) => a.error?.code ?? 'ok')).toEqual(['ok', 'ok', 'RATE_LIMITED']);
  });

  test('a malformed call costs a token: the bucket is taken before validation', async () => {
    const socket = await connectAs(app(), cast.bob);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await emitAck<Ack>(socket, 'typing', { conversationId: 'not an id' }));
    expect(answers.map((a) => a.error?.code)).toEqual(['VALIDATION_FAILED', 'VALIDATION_FAILED', 'RATE_LIMITED']);
  });

  test("a body that is not JSON costs its route's token before it is refused", async () => {
    const garbled = () => app().api().post('/api/chat/send').set(bearer(cast.bob)).set('Content-Type', 'application/json').send('{"receiverId": 1,');
    expect([(await garbled()).status, (await garbled()).status]).toEqual([400, 400]);
    expectRefusedOverRest(await app().api().post('/api/chat/send').set(bearer(cast.bob)).send({ receiverId: cast.alice, content: 'x' }));
  });

  test('a refused send stores nothing', async () => {
    await sendMessage(app(), cast.alice, cast.bob, 'second');
    const refused = await app().api().post('/api/chat/send').set(bearer(cast.alice)).send({ receiverId: cast.bob, content: 'third' });
    expectRefusedOverRest(refused);
    const history = await app().api().get(`/api/chat/conversations/${conversationId}/messages`).set(bearer(cast.bob));
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['hello', 'second']);
  });

  test('a first send to a new partner takes a conversation token too; a send to an existing partner does not', async () => {
    const { sequelize } = app().chat;
    const [carol, dave, erin, frank] = [await createUser(sequelize, 'Carol'), await createUser(sequelize, 'Dave'), await createUser(sequelize, 'Erin'), await createUser(sequelize, 'Frank')];
    const send = (from: number, to: number) => app().api().post('/api/chat/send').set(bearer(from)).send({ receiverId: to, content: 'x' });
    const open = (from: number, to: number) => app().api().post('/api/chat/conversations').set(bearer(from)).send({ participantId: to });
    // Erin writes to two new partners: both her conversation tokens are gone.
    expect([(await send(erin, carol)).status, (await send(erin, dave)).status]).toEqual([201, 201]);
    expectRefusedOverRest(await open(erin, frank));
    // Bob writes twice to the partner he has: both of his conversation tokens are left.
    expect([(await send(cast.bob, cast.alice)).status, (await send(cast.bob, cast.alice)).status]).toEqual([201, 201]);
    expect([(await open(cast.bob, carol)).status, (await open(cast.bob, dave)).status]).toEqual([201, 201]);
  });

  test('conversation refusing a first contact leaves the send token for an existing partner', async () => {
    const carol = await createUser(app().chat.sequelize, 'Carol');
    const dave = await createUser(app().chat.sequelize, 'Dave');
    // Bob opens two conversations (conversation bucket now empty), then writes to a third user.
    for (const to of [carol, dave]) expect((await app().api().post('/api/chat/conversations').set(bearer(cast.bob)).send({ participantId: to })).status).toBe(201);
    const refused = await app().api().post('/api/chat/send').set(bearer(cast.bob)).send({ receiverId: cast.stranger, content: 'x' });
    expectRefusedOverRest(refused);
    expect(refused.body.error.retryAfterMs).toBeGreaterThan(60_000); // conversation's wait (0.01/s), not send's
    // Both send tokens are still there for partners Bob already has.
    expect((await app().api().post('/api/chat/send').set(bearer(cast.bob)).send({ receiverId: carol, content: 'a' })).status).toBe(201);
    expect((await app().api().post('/api/chat/send').set(bearer(cast.bob)).send({ receiverId: cast.alice, content: 'b' })).status).toBe(201);
  });

  test('POST /conversations is a read for an existing pair and a conversation for a new one or an unknown id', async () => {
    const open = (from: number, participantId: unknown) => app().api().post('/api/chat/conversations').set(bearer(from)).send({ participantId });
    // Bob: an existing pair twice (read), then the read bucket is empty.
    expect((await open(cast.bob, cast.alice)).status).toBe(200);
    expect((await open(cast.bob, cast.alice)).status).toBe(200);
    expectRefusedOverRest(await open(cast.bob, cast.alice));
    // Unknown ids cost conversation tokens like new partners: NOT_FOUND twice, then refused.
    expect((await open(cast.stranger, 999_999)).status).toBe(404);
    expect((await open(cast.stranger, 999_998)).status).toBe(404);
    expectRefusedOverRest(await open(cast.stranger, cast.alice));
  });

  test('admin routes, admins and exempt users are not limited', async () => {
    const admin = await createUser(app().chat.sequelize, 'Admin');
    for (let i = 0; i < 5; i++) {
      expect((await app().api().get('/api/chat/admin/messages').set(bearer(admin, { admin: true }))).status).toBe(200);
      expect((await app().api().get('/api/chat/conversations').set(bearer(admin, { admin: true }))).status).toBe(200);
    }
  });
});

describe('fair use: exempt users', () => {
  const app = useAppPerTest({ limits: { rates: TWO_EACH, exemptUserIds: [1] } });

  test('a user in RATE_LIMIT_EXEMPT_USERS is never refused, others are', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    expect(alice).toBe(1);
    const statuses = async (user: number) => {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push((await app().api().get('/api/chat/conversations').set(bearer(user))).status);
      return answers;
    };
    expect(await statuses(alice)).toEqual([200, 200, 200, 200]);
    expect(await statuses(bob)).toEqual([200, 200, 429, 429]);
  });
});

describe('SOCKET_MAX_PENDING', () => {
  const app = useAppPerTest({ limits: { socketMaxPending: 3, rates: { read: { burst: 1000, perSecond: 1000 } } } });

  test('events past the pending limit are refused at once with retryAfterMs 0; the socket serves again once acks are out', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const socket = await connectAs(app(), alice);
    const acks = await Promise.all(Array.from({ length: 40 }, () => emitAck<Ack>(socket, 'get_online_status', { userIds: [bob] })));
    const refused = acks.filter((a) => !a.ok);
    expect(refused.length).toBeGreaterThan(0);
    expect(acks.filter((a) => a.ok).length).toBeGreaterThanOrEqual(3);
    for (const ack of refused) expect(ack.error).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: 0 });
    expect((await emitAck<Ack>(socket, 'get_online_status', { userIds: [bob] })).ok).toBe(true);
  });
});
