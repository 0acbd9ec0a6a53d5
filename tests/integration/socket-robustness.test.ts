import { io as connectClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import type { Sequelize } from 'sequelize';
import type { ChatOptions } from '../../src/chat';
import type { MessageJson } from '../../src/messages/message.presenter';
import type { PresenceJson } from '../../src/presence/presence.service';
import type { ErrorBody } from '../../src/shared/errors';
import { ISO, type Sent } from '../helpers/contract';
import { createCast, createUser, resetData, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, disconnectAll, emitAck, nextEvent, record, settle } from '../helpers/sockets';
import { bearer, GENEROUS_RATES, startTestApp, TEST_JWT_SECRET, type TestApp, tokenFor, useTestApp } from '../helpers/test-app';

/**
 * The socket door under stress: handshake authentication, hostile payloads for every client event,
 * presence across several sockets and restarts, and lossless catch-up after a dropped connection.
 * Real PostgreSQL, a real Socket.IO server on port 0 and socket.io-client; nothing is mocked.
 */

type AckJson = { ok: true } & Record<string, unknown> | { ok: false; error: ErrorBody };
type ConnectError = Error & { data?: { code?: string } };

// ---------------------------------------------------------------------------------------------
// Process-wide: nothing a client sends may leave a promise rejection unhandled.

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  // Registered here, not at load time: Jest swaps the process's rejection listeners when the run
  // starts, and would drop one added while the file is being loaded.
  process.on('unhandledRejection', onUnhandled);
  expect(process.listeners('unhandledRejection')).toContain(onUnhandled);
});

// ---------------------------------------------------------------------------------------------
// Clients this file opens itself (connectAs covers the rest).

const extraClients = new Set<ClientSocket>();

function openClient(t: TestApp, options: Partial<ManagerOptions & SocketOptions>): ClientSocket {
  const socket = connectClient(t.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  extraClients.add(socket);
  return socket;
}

function closeExtraClients(): void {
  for (const socket of extraClients) socket.disconnect();
  extraClients.clear();
}

/** Connected, or refused with the handshake's error. */
function outcome(socket: ClientSocket): Promise<{ connected: true } | { error: ConnectError }> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true }));
    socket.once('connect_error', (error: ConnectError) => resolve({ error }));
  });
}

/** A client that reconnects by itself after a transport loss, like a browser or a phone. */
async function reconnectingClient(t: TestApp, userId: number): Promise<ClientSocket> {
  const socket = openClient(t, {
    auth: { token: tokenFor(userId) },
    reconnection: true,
    reconnectionDelay: 300,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
  });
  const result = await outcome(socket);
  if (!('connected' in result)) throw result.error;
  return socket;
}

async function userSocketCount(t: TestApp, userId: number): Promise<number> {
  return (await t.realtime.io.in(`user_${userId}`).fetchSockets()).length;
}

/** Waits until the server has seen every socket of the user go. */
async function serverSawLeave(t: TestApp, userId: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await userSocketCount(t, userId)) > 0) {
    if (Date.now() > deadline) throw new Error(`user ${userId} still has sockets on the server`);
    await settle(10);
  }
}

/** Connects the user and waits until `watcher`, a conversation partner, hears them come online. */
async function comeOnline(t: TestApp, userId: number, watcher: ClientSocket): Promise<ClientSocket> {
  const online = nextEvent<PresenceJson>(watcher, 'presence');
  const socket = await connectAs(t, userId);
  await online;
  return socket;
}

/** Closes the user's last socket and resolves with the offline announcement `watcher` hears. */
async function goOffline(socket: ClientSocket, watcher: ClientSocket): Promise<PresenceJson> {
  const offline = nextEvent<PresenceJson>(watcher, 'presence', 1000);
  socket.disconnect();
  return offline;
}

/** Drops the client's transport as a lost network would (no disconnect packet is sent). */
async function dropTransport(socket: ClientSocket): Promise<void> {
  const gone = nextEvent<string>(socket, 'disconnect');
  socket.io.engine.close();
  await gone;
}

function expectValidationAck(ack: AckJson, label: string): void {
  expect({ label, ok: ack.ok, code: ack.ok ? undefined : ack.error.code }).toEqual({ label, ok: false, code: 'VALIDATION_FAILED' });
  if (ack.ok) return;
  expect(Object.keys(ack).sort()).toEqual(['error', 'ok']);
  expect(typeof ack.error.message).toBe('string');
  expect(ack.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(ack.error)) expect(['code', 'message', 'details']).toContain(key);
}

/** useTestApp, plus closing the clients this file opens itself. */
function useSocketApp(overrides: Partial<ChatOptions> = {}): () => TestApp {
  const app = useTestApp({ limits: { rates: GENEROUS_RATES }, ...overrides });
  afterEach(() => closeExtraClients());
  return app;
}

/** The full server-side history of a conversation, oldest first. */
async function fullHistory(t: TestApp, userId: number, conversationId: number): Promise<MessageJson[]> {
  const res = await t.api().get(`/api/chat/conversations/${conversationId}/messages?limit=100`).set(bearer(userId));
  expect(res.status).toBe(200);
  expect(res.body.hasMore).toBe(false);
  return res.body.messages;
}

// =============================================================================================

describe('handshake authentication', () => {
  const app = useSocketApp();

  test('a token in auth.token connects and the socket is already in its user room', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const b = openClient(app(), { auth: { token: tokenFor(bob) } });
    expect(await outcome(b)).toEqual({ connected: true });
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'no join needed');
    expect((await received).message.content).toBe('no join needed');
  });

  test('a token in the Authorization header connects as that user', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const b = openClient(app(), { extraHeaders: { Authorization: `Bearer ${tokenFor(bob)}` } });
    const s = openClient(app(), { extraHeaders: { Authorization: `Bearer ${tokenFor(stranger)}` } });
    expect(await outcome(b)).toEqual({ connected: true });
    expect(await outcome(s)).toEqual({ connected: true });
    const strangerSaw = record(s, 'new_message');
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'via header');
    expect((await received).message.content).toBe('via header');
    await settle();
    expect(strangerSaw).toEqual([]);
  });

  const refusals: [string, (ids: { bob: number }) => Partial<SocketOptions & ManagerOptions>][] = [
    ['no token at all', () => ({})],
    ['an empty auth.token', () => ({ auth: { token: '' } })],
    ['a garbage auth.token', () => ({ auth: { token: 'not-a-jwt' } })],
    ['a token that is not a string', () => ({ auth: { token: 12345 } })],
    ['an expired token', ({ bob }) => ({ auth: { token: tokenFor(bob, { expiresIn: -60 }) } })],
    ['a token signed with another secret', ({ bob }) => ({ auth: { token: tokenFor(bob, { secret: `${TEST_JWT_SECRET}-other` }) } })],
    ['a token for a user who does not exist', () => ({ auth: { token: tokenFor(987654) } })],
    ['a token whose sub is not a user id', () => ({ auth: { token: tokenFor(1, { claims: { sub: 'bob' } }) } })],
    ['a garbage Authorization header', () => ({ extraHeaders: { Authorization: 'Bearer not-a-jwt' } })],
    ['an Authorization header without the Bearer scheme', ({ bob }) => ({ extraHeaders: { Authorization: tokenFor(bob) } })],
    ['an expired token in the Authorization header', ({ bob }) => ({ extraHeaders: { Authorization: `Bearer ${tokenFor(bob, { expiresIn: -60 })}` } })],
  ];

  test.each(refusals)('%s is refused with connect_error UNAUTHORIZED', async (_label, options) => {
    const { bob } = await createCast(app().chat.sequelize);
    const socket = openClient(app(), options({ bob }));
    const result = await outcome(socket);
    expect('error' in result).toBe(true);
    if (!('error' in result)) return;
    expect(result.error.data).toEqual({ code: 'UNAUTHORIZED' });
    expect(typeof result.error.message).toBe('string');
    expect(result.error.message.length).toBeGreaterThan(0);
    expect(result.error.message).not.toMatch(/jwt|stack|SELECT/i);
    expect(socket.connected).toBe(false);
  });

  test('a refused handshake leaves the server serving everyone else', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await outcome(openClient(app(), { auth: { token: 'garbage' } }));
    const b = await connectAs(app(), bob);
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'after a refusal');
    expect((await received).message.content).toBe('after a refusal');
  });
});

// =============================================================================================

describe('malformed and hostile socket input', () => {
  const app = useSocketApp();

  interface Fixture {
    alice: number;
    bob: number;
    stranger: number;
    conversationId: number;
    messageId: number;
  }

  const NO_PAYLOAD = Symbol('no payload');
  type BadPayload = [label: string, payload: unknown];

  /** Payloads every event must refuse, whatever its schema. */
  const shapeless = (valid: object): BadPayload[] => [
    ['no payload at all (only an ack)', NO_PAYLOAD],
    ['a string', 'hello'],
    ['a JSON text of a valid payload', JSON.stringify(valid)],
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an empty array', []],
    ['an array holding a valid payload', [valid]],
    ['an empty object', {}],
  ];

  const conversationIdCases = (f: Fixture): BadPayload[] => [
    ['a conversationId that is a word', { conversationId: 'abc' }],
    ['a conversationId of 0', { conversationId: 0 }],
    ['a negative conversationId', { conversationId: -f.conversationId }],
    ['a fractional conversationId', { conversationId: 1.5 }],
    ['a conversationId past the integer range', { conversationId: 2 ** 31 }],
    ['a boolean conversationId', { conversationId: true }],
    ['a null conversationId', { conversationId: null }],
    ['a conversationId in an array', { conversationId: [f.conversationId] }],
    ['a conversationId with SQL in it', { conversationId: `${f.conversationId}; DROP TABLE messages` }],
    ['a NoSQL operator as conversationId', { conversationId: { $gt: 0 } }],
    ['a misspelt field', { conversation_id: f.conversationId }],
  ];

  const events: [event: string, valid: (f: Fixture) => object, specific: (f: Fixture) => BadPayload[]][] = [
    ['join_conversation', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    ['leave_conversation', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    ['typing', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    ['stop_typing', (f) => ({ conversationId: f.conversationId }), conversationIdCases],
    [
      'send_message',
      (f) => ({ receiverId: f.bob, content: 'valid' }),
      (f) => [
        ['no content and no attachment', { receiverId: f.bob }],
        ['blank content', { receiverId: f.bob, content: '   \n\t ' }],
        ['no receiver and no conversation', { content: 'lost' }],
        ['both receiverId and conversationId', { receiverId: f.bob, conversationId: f.conversationId, content: 'both' }],
        ['a message to oneself', { receiverId: f.alice, content: 'me' }],
        ['content that is a number', { receiverId: f.bob, content: 42 }],
        ['content that is an object', { receiverId: f.bob, content: { $where: 'sleep(1000)' } }],
        ['content that is an array', { receiverId: f.bob, content: ['a', 'b'] }],
        ['content of 5,000 characters', { receiverId: f.bob, content: 'x'.repeat(5000) }],
        ['content of 4,001 code points in emoji', { receiverId: f.bob, content: '\u{1F600}'.repeat(4001) }],
        ['a receiverId that is a name', { receiverId: 'bob', content: 'hi' }],
        ['a receiverId of 0', { receiverId: 0, content: 'hi' }],
        ['a fractional receiverId', { receiverId: f.bob + 0.5, content: 'hi' }],
        ['a NoSQL operator as receiverId', { receiverId: { $gt: 0 }, content: 'hi' }],
        ['a NoSQL operator as conversationId', { conversationId: { $ne: null }, content: 'hi' }],
        ['a clientMessageId that is a number', { receiverId: f.bob, content: 'hi', clientMessageId: 7 }],
        ['an empty clientMessageId', { receiverId: f.bob, content: 'hi', clientMessageId: '' }],
        ['a clientMessageId of 101 characters', { receiverId: f.bob, content: 'hi', clientMessageId: 'c'.repeat(101) }],
        ['a NoSQL operator as clientMessageId', { receiverId: f.bob, content: 'hi', clientMessageId: { $regex: '.*' } }],
      ],
    ],
    [
      'mark_as_read',
      (f) => ({ conversationId: f.conversationId }),
      (f) => [
        ...conversationIdCases(f),
        ['only an upToMessageId', { upToMessageId: f.messageId }],
        ['an upToMessageId that is a word', { conversationId: f.conversationId, upToMessageId: 'latest' }],
        ['a negative upToMessageId', { conversationId: f.conversationId, upToMessageId: -1 }],
        ['an upToMessageId past the safe integer range', { conversationId: f.conversationId, upToMessageId: 2 ** 53 + 2 }],
        ['a NoSQL operator as upToMessageId', { conversationId: f.conversationId, upToMessageId: { $gt: 0 } }],
      ],
    ],
    [
      'message_delivered',
      (f) => ({ conversationId: f.conversationId, upToMessageId: f.messageId }),
      (f) => [
        ['no upToMessageId', { conversationId: f.conversationId }],
        ['no conversationId', { upToMessageId: f.messageId }],
        ['a conversationId that is a word', { conversationId: 'abc', upToMessageId: f.messageId }],
        ['an upToMessageId that is a word', { conversationId: f.conversationId, upToMessageId: 'all' }],
        ['an upToMessageId of 0', { conversationId: f.conversationId, upToMessageId: 0 }],
        ['a null upToMessageId', { conversationId: f.conversationId, upToMessageId: null }],
        ['a NoSQL operator as conversationId', { conversationId: { $gt: 0 }, upToMessageId: f.messageId }],
        ['a NoSQL operator as upToMessageId', { conversationId: f.conversationId, upToMessageId: { $gte: 1 } }],
      ],
    ],
    [
      'delete_message',
      (f) => ({ messageId: f.messageId }),
      (f) => [
        ['a messageId that is a word', { messageId: 'last' }],
        ['a messageId of 0', { messageId: 0 }],
        ['a negative messageId', { messageId: -f.messageId }],
        ['a messageId of 1e20', { messageId: 1e20 }],
        ['a messageId in an array', { messageId: [f.messageId] }],
        ['a NoSQL operator as messageId', { messageId: { $gt: 0 } }],
        ['an id field instead of messageId', { id: f.messageId }],
      ],
    ],
    [
      'get_online_status',
      (f) => ({ userIds: [f.bob] }),
      (f) => [
        ['userIds that is a number', { userIds: f.bob }],
        ['userIds that is a string', { userIds: String(f.bob) }],
        ['userIds with 0', { userIds: [0] }],
        ['userIds with a word', { userIds: ['bob'] }],
        ['userIds with null', { userIds: [f.bob, null] }],
        ['userIds with a NoSQL operator inside', { userIds: [{ $gt: 0 }] }],
        ['userIds that is a NoSQL operator', { userIds: { $in: [f.bob] } }],
        ['101 userIds', { userIds: Array.from({ length: 101 }, (_, i) => i + 1) }],
        ['a userId past the integer range', { userIds: [2 ** 31] }],
      ],
    ],
  ];

  async function fixture(): Promise<Fixture> {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'first');
    return { alice, bob, stranger, conversationId: sent.message.conversationId, messageId: sent.message.id };
  }

  test.each(events)('every malformed %s payload is refused with VALIDATION_FAILED and the server keeps serving', async (event, valid, specific) => {
    const f = await fixture();
    const [a, b] = await Promise.all([connectAs(app(), f.alice), connectAs(app(), f.bob)]);
    const errors = record(a, 'error');
    const before = await fullHistory(app(), f.alice, f.conversationId);
    const cases: BadPayload[] = [...shapeless(valid(f)), ...specific(f)];
    for (const [label, payload] of cases) {
      const ack = payload === NO_PAYLOAD ? await emitAck<AckJson>(a, event) : await emitAck<AckJson>(a, event, payload);
      expectValidationAck(ack, `${event}: ${label}`);
    }
    expectValidationAck(await emitAck<AckJson>(a, event, valid(f), valid(f)), `${event}: two payload arguments`);
    expectValidationAck(await emitAck<AckJson>(a, event, valid(f), 'extra', 3), `${event}: three payload arguments`);

    // Nothing was written, no `error` event duplicated the acks, and the same socket still works.
    expect(await fullHistory(app(), f.alice, f.conversationId)).toEqual(before);
    const received = nextEvent<Sent>(b, 'new_message');
    const ok = await emitAck<AckJson>(a, 'send_message', { receiverId: f.bob, content: `still alive after ${event}` });
    expect(ok.ok).toBe(true);
    expect((await received).message.content).toBe(`still alive after ${event}`);
    expect(errors).toEqual([]);
  });

  test('the valid payloads used above are accepted, so the refusals are about the malformation', async () => {
    const f = await fixture();
    const a = await connectAs(app(), f.alice);
    for (const [event, valid] of events) {
      const ack = await emitAck<AckJson>(a, event, valid(f));
      expect({ event, ok: ack.ok }).toEqual({ event, ok: true });
    }
  });

  test('a failing event sent without an ack is answered with an error event naming it', async () => {
    const f = await fixture();
    const a = await connectAs(app(), f.alice);
    const errors = record<{ event: string; error: ErrorBody }>(a, 'error');
    for (const [event] of events) a.emit(event, 'garbage');
    const deadline = Date.now() + 3000;
    while (errors.length < events.length && Date.now() < deadline) await settle(20);
    expect(errors.map((e) => e.event).sort()).toEqual(events.map(([event]) => event).sort());
    for (const e of errors) {
      expect(Object.keys(e).sort()).toEqual(['error', 'event']);
      expect(e.error.code).toBe('VALIDATION_FAILED');
      expect(typeof e.error.message).toBe('string');
      expect(e.error.message.length).toBeGreaterThan(0);
    }
  });

  test('a stranger joining without an ack gets an error event with NOT_FOUND', async () => {
    const f = await fixture();
    const s = await connectAs(app(), f.stranger);
    const error = nextEvent<{ event: string; error: ErrorBody }>(s, 'error');
    s.emit('join_conversation', { conversationId: f.conversationId });
    expect(await error).toEqual({ event: 'join_conversation', error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  test('an unknown event with an ack is answered NOT_FOUND; without one it is ignored and the socket keeps serving', async () => {
    const f = await fixture();
    const s = await connectAs(app(), f.alice);
    const errors = record(s, 'error');
    for (const event of ['no_such_event', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(await emitAck<AckJson>(s, event, { conversationId: f.conversationId })).toEqual({
        ok: false,
        error: { code: 'NOT_FOUND', message: 'No such event' },
      });
      s.emit(event, {});
    }
    expect(await emitAck<AckJson>(s, 'join_conversation', { conversationId: f.conversationId })).toMatchObject({ ok: true });
    expect(errors).toEqual([]);
  });

  test('an event without an ack that succeeds produces no error event', async () => {
    const f = await fixture();
    const [a, b] = await Promise.all([connectAs(app(), f.alice), connectAs(app(), f.bob)]);
    const errors = record(a, 'error');
    const typing = nextEvent<{ isTyping: boolean }>(b, 'user_typing');
    a.emit('typing', { conversationId: f.conversationId });
    expect((await typing).isTyping).toBe(true);
    const received = nextEvent<Sent>(b, 'new_message');
    a.emit('send_message', { conversationId: f.conversationId, content: 'fire and forget' });
    expect((await received).message.content).toBe('fire and forget');
    a.emit('join_conversation', { conversationId: f.conversationId });
    a.emit('mark_as_read', { conversationId: f.conversationId });
    a.emit('get_online_status', { userIds: [f.bob] });
    await settle(300);
    expect(errors).toEqual([]);
  });

  test('unknown event names are ignored and the socket keeps working', async () => {
    const f = await fixture();
    const [a, b] = await Promise.all([connectAs(app(), f.alice), connectAs(app(), f.bob)]);
    const errors = record(a, 'error');
    for (const name of ['no_such_event', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'error', 'SEND_MESSAGE']) {
      a.emit(name, { conversationId: f.conversationId, content: 'x' });
    }
    a.emit('no_such_event');
    a.emit('no_such_event', null, 1, 'two', [3]);
    const received = nextEvent<Sent>(b, 'new_message');
    const ack = await emitAck<AckJson>(a, 'send_message', { conversationId: f.conversationId, content: 'after unknown events' });
    expect(ack.ok).toBe(true);
    expect((await received).message.content).toBe('after unknown events');
    expect(a.connected).toBe(true);
    await settle();
    expect(errors).toEqual([]);
    // Only the real send was stored.
    expect((await fullHistory(app(), f.alice, f.conversationId)).map((m) => m.content)).toEqual(['first', 'after unknown events']);
  });

  test('a payload above the socket size limit disconnects only that socket', async () => {
    const f = await fixture();
    const [a, b, bobOther, s] = await Promise.all([
      connectAs(app(), f.alice),
      connectAs(app(), f.bob),
      connectAs(app(), f.bob),
      connectAs(app(), f.stranger),
    ]);
    const gone = nextEvent<string>(a, 'disconnect');
    a.emit('send_message', { receiverId: f.bob, content: 'x'.repeat(200_000) });
    expect(['transport close', 'transport error']).toContain(await gone);
    expect(a.connected).toBe(false);
    // Everyone else is still connected and served, over the socket and over REST.
    expect([b.connected, bobOther.connected, s.connected]).toEqual([true, true, true]);
    const onBoth = [nextEvent<Sent>(b, 'new_message'), nextEvent<Sent>(bobOther, 'new_message')];
    const ack = await emitAck<AckJson>(b, 'send_message', { receiverId: f.alice, content: 'still here' });
    expect(ack.ok).toBe(true);
    expect((await Promise.all(onBoth)).map((e) => e.message.content)).toEqual(['still here', 'still here']);
    expect((await emitAck<AckJson>(s, 'get_online_status', { userIds: [f.bob] })).ok).toBe(true);
    // The oversized message was never stored; alice can come back.
    expect((await fullHistory(app(), f.bob, f.conversationId)).map((m) => m.content)).toEqual(['first', 'still here']);
    const again = await connectAs(app(), f.alice);
    expect((await emitAck<AckJson>(again, 'join_conversation', { conversationId: f.conversationId })).ok).toBe(true);
  });
});

// =============================================================================================

describe('presence', () => {
  const GRACE_MS = 100;
  const app = useSocketApp({ realtime: { presenceGraceMs: GRACE_MS } });
  // Let every grace period run out, so no announcement spills into the next test.
  afterEach(() => settle(GRACE_MS * 3));

  /** Alice and bob share a conversation; the stranger shares none with either. */
  async function cast() {
    const ids = await createCast(app().chat.sequelize);
    await sendMessage(app(), ids.alice, ids.bob, 'we share a conversation');
    return ids;
  }

  const statuses = async (socket: ClientSocket, userIds: number[]) => {
    const ack = await emitAck<{ ok: boolean; statuses: PresenceJson[] }>(socket, 'get_online_status', { userIds });
    expect(ack.ok).toBe(true);
    return ack.statuses;
  };

  test("a user's first socket announces them online to conversation partners and never to strangers", async () => {
    const { alice, bob, stranger } = await cast();
    const [a, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), stranger)]);
    const strangerSaw = record<PresenceJson>(s, 'presence');
    const online = nextEvent<PresenceJson>(a, 'presence');
    await connectAs(app(), bob);
    expect(await online).toEqual({ userId: bob, online: true, lastSeenAt: null });
    await settle();
    expect(strangerSaw).toEqual([]);
  });

  test('users who connect in the same instant are each announced to their own partners, with their own lastSeenAt', async () => {
    // Their handshakes' user lookups and presence reads are batched (BatchLoader): each must still
    // get its own row back.
    const { alice, bob, stranger } = await cast();
    const others = await Promise.all([1, 2, 3, 4, 5].map((n) => createUser(app().chat.sequelize, `Friend ${n}`)));
    for (const other of others) await sendMessage(app(), other, alice, 'hi');
    const [a, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), stranger)]);
    const { lastSeenAt: bobLastSeen } = await goOffline(await comeOnline(app(), bob, a), a);
    await settle(GRACE_MS * 2);

    const seen = record<PresenceJson>(a, 'presence');
    const strangerSaw = record<PresenceJson>(s, 'presence');
    await Promise.all([bob, ...others].map((userId) => connectAs(app(), userId)));
    await settle();

    expect(bobLastSeen).toEqual(expect.stringMatching(ISO));
    expect([...seen].sort((x, y) => x.userId - y.userId)).toEqual(
      [bob, ...others].sort((x, y) => x - y).map((userId) => ({ userId, online: true, lastSeenAt: userId === bob ? bobLastSeen : null })),
    );
    expect(strangerSaw).toEqual([]);
  });

  test('a second socket announces nothing and closing one of two sockets keeps the user online', async () => {
    const { alice, bob } = await cast();
    const a = await connectAs(app(), alice);
    const seen = record<PresenceJson>(a, 'presence');
    const b1 = await comeOnline(app(), bob, a);
    await connectAs(app(), bob);
    b1.disconnect();
    await settle(GRACE_MS * 4);
    expect(seen).toEqual([{ userId: bob, online: true, lastSeenAt: null }]);
    expect(await statuses(a, [bob])).toEqual([{ userId: bob, online: true, lastSeenAt: null }]);
  });

  test('closing the last socket announces the user offline with lastSeenAt within a second', async () => {
    const { alice, bob, stranger } = await cast();
    const [a, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), stranger)]);
    const strangerSaw = record<PresenceJson>(s, 'presence');
    const online = nextEvent<PresenceJson>(a, 'presence');
    const [b1, b2] = [await connectAs(app(), bob), await connectAs(app(), bob)];
    await online;
    b1.disconnect();
    const offline = nextEvent<PresenceJson>(a, 'presence', 1000);
    const leftAt = Date.now();
    b2.disconnect();
    const event = await offline;
    expect(event).toEqual({ userId: bob, online: false, lastSeenAt: expect.stringMatching(ISO) });
    const seenAt = Date.parse(event.lastSeenAt!);
    expect(seenAt).toBeGreaterThanOrEqual(leftAt - 50);
    expect(seenAt).toBeLessThanOrEqual(Date.now());
    await settle();
    expect(strangerSaw).toEqual([]);
  });

  test('reconnecting within the grace period announces nothing', async () => {
    const { alice, bob } = await cast();
    const a = await connectAs(app(), alice);
    const seen = record<PresenceJson>(a, 'presence');
    const b = await comeOnline(app(), bob, a);
    const leftAt = Date.now();
    b.disconnect();
    await connectAs(app(), bob);
    // The test only means something if the new socket arrived before the grace period ran out.
    expect(Date.now() - leftAt).toBeLessThan(GRACE_MS);
    await settle(GRACE_MS * 4);
    expect(seen).toEqual([{ userId: bob, online: true, lastSeenAt: null }]);
    expect(await statuses(a, [bob])).toEqual([{ userId: bob, online: true, lastSeenAt: null }]);
  });

  test('get_online_status reports online users, offline users with their lastSeenAt, and unknown ids as offline', async () => {
    const { alice, bob, stranger } = await cast();
    const a = await connectAs(app(), alice);
    const b = await comeOnline(app(), bob, a);
    expect(await statuses(a, [bob, stranger, 424242])).toEqual([
      { userId: bob, online: true, lastSeenAt: null },
      { userId: stranger, online: false, lastSeenAt: null },
      { userId: 424242, online: false, lastSeenAt: null },
    ]);
    expect(await statuses(a, [])).toEqual([]);

    const { lastSeenAt } = await goOffline(b, a);
    expect(await statuses(a, [bob, alice])).toEqual([
      { userId: bob, online: false, lastSeenAt },
      { userId: alice, online: true, lastSeenAt: null },
    ]);
    // A stranger may ask too, and learns nothing: Bob looks never seen (privacy.test.ts has more).
    const s = await connectAs(app(), stranger);
    expect(await statuses(s, [bob])).toEqual([{ userId: bob, online: false, lastSeenAt: null }]);
  });

  test('coming back online announces the lastSeenAt of the previous visit', async () => {
    const { alice, bob } = await cast();
    const a = await connectAs(app(), alice);
    const b = await comeOnline(app(), bob, a);
    const { lastSeenAt } = await goOffline(b, a);
    const back = nextEvent<PresenceJson>(a, 'presence');
    await connectAs(app(), bob);
    expect(await back).toEqual({ userId: bob, online: true, lastSeenAt });
  });
});

// =============================================================================================

describe('lastSeenAt across a restart', () => {
  const GRACE_MS = 100;
  const apps: TestApp[] = [];
  const start = async () => {
    const app = await startTestApp({ realtime: { presenceGraceMs: GRACE_MS } });
    apps.push(app);
    return app;
  };
  const stop = async (app: TestApp) => {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  };
  // Each test restarts the server itself, so the app is per test; the data is reset only before
  // the test, never between the two servers.
  let first: TestApp;
  beforeEach(async () => {
    first = await start();
    await resetData(first.chat.sequelize);
  });
  afterEach(async () => {
    disconnectAll();
    closeExtraClients();
    for (const app of [...apps]) await stop(app);
  });

  const storedLastSeen = async (sequelize: Sequelize, userId: number): Promise<string | undefined> => {
    const [rows] = await sequelize.query('SELECT last_seen_at FROM user_presence WHERE user_id = :userId', { replacements: { userId } });
    const row = (rows as { last_seen_at: Date | string }[])[0];
    return row ? new Date(row.last_seen_at).toISOString() : undefined;
  };

  test('the lastSeenAt of a user who went offline is stored and still reported after a restart', async () => {
    const { alice, bob } = await createCast(first.chat.sequelize);
    await sendMessage(first, alice, bob, 'hello');
    const a = await connectAs(first, alice);
    const b = await comeOnline(first, bob, a);
    const { lastSeenAt } = await goOffline(b, a);
    expect(lastSeenAt).toMatch(ISO);
    expect(await storedLastSeen(first.chat.sequelize, bob)).toBe(lastSeenAt);

    await stop(first);
    const second = await start();
    const a2 = await connectAs(second, alice);
    const status = await emitAck<{ ok: boolean; statuses: PresenceJson[] }>(a2, 'get_online_status', { userIds: [bob] });
    expect(status).toEqual({ ok: true, statuses: [{ userId: bob, online: false, lastSeenAt }] });
    const back = nextEvent<PresenceJson>(a2, 'presence');
    await connectAs(second, bob);
    expect(await back).toEqual({ userId: bob, online: true, lastSeenAt });
  });

  test('users still connected when the server shuts down get their lastSeenAt stored', async () => {
    const { alice, bob } = await createCast(first.chat.sequelize);
    await sendMessage(first, alice, bob, 'hello');
    await connectAs(first, bob);
    expect(await storedLastSeen(first.chat.sequelize, bob)).toBeUndefined();
    const beforeShutdown = Date.now();
    await stop(first);
    const afterShutdown = Date.now();

    const second = await start();
    const a = await connectAs(second, alice);
    const status = await emitAck<{ ok: boolean; statuses: PresenceJson[] }>(a, 'get_online_status', { userIds: [bob] });
    expect(status.ok).toBe(true);
    const [bobStatus] = status.statuses;
    expect(bobStatus).toEqual({ userId: bob, online: false, lastSeenAt: expect.stringMatching(ISO) });
    const seenAt = Date.parse(bobStatus!.lastSeenAt!);
    expect(seenAt).toBeGreaterThanOrEqual(beforeShutdown - 5);
    expect(seenAt).toBeLessThanOrEqual(afterShutdown);
    expect(await storedLastSeen(second.chat.sequelize, bob)).toBe(bobStatus!.lastSeenAt);
  });

  test('everyone still connected at shutdown gets a lastSeenAt, and users who never connected get none', async () => {
    const { alice, bob, stranger } = await createCast(first.chat.sequelize);
    const friends = await Promise.all([1, 2, 3].map((n) => createUser(first.chat.sequelize, `Friend ${n}`)));
    await Promise.all([bob, ...friends].map((userId) => connectAs(first, userId)));
    const beforeShutdown = Date.now();
    await stop(first);
    const afterShutdown = Date.now();

    const second = await start();
    for (const userId of [bob, ...friends]) {
      const stored = await storedLastSeen(second.chat.sequelize, userId);
      expect(stored).toEqual(expect.stringMatching(ISO));
      expect(Date.parse(stored!)).toBeGreaterThanOrEqual(beforeShutdown - 5);
      expect(Date.parse(stored!)).toBeLessThanOrEqual(afterShutdown);
    }
    expect(await storedLastSeen(second.chat.sequelize, alice)).toBeUndefined();
    expect(await storedLastSeen(second.chat.sequelize, stranger)).toBeUndefined();
  });
});

// =============================================================================================

describe('reconnecting after a dropped connection', () => {
  const app = useSocketApp();

  /** Waits until `seen` holds a message with this id. */
  async function until(seen: Sent[], id: number): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!seen.some((e) => e.message.id === id)) {
      if (Date.now() > deadline) throw new Error(`message ${id} never arrived`);
      await settle(10);
    }
  }

  /** Alice sends two messages over REST and two over her socket; returns their ids in order. */
  async function sendWhileAway(a: ClientSocket, alice: number, bob: number, conversationId: number): Promise<number[]> {
    const ids: number[] = [];
    ids.push((await sendMessage(app(), alice, bob, 'away 1 (REST)')).message.id);
    const viaSocket = async (content: string) => {
      const ack = await emitAck<{ ok: boolean; message: MessageJson }>(a, 'send_message', { conversationId, content });
      expect(ack.ok).toBe(true);
      return ack.message.id;
    };
    ids.push(await viaSocket('away 2 (socket)'));
    ids.push((await sendMessage(app(), alice, bob, 'away 3 (REST)')).message.id);
    ids.push(await viaSocket('away 4 (socket)'));
    return ids;
  }

  async function catchUp(userId: number, conversationId: number, after: number): Promise<MessageJson[]> {
    const res = await app().api().get(`/api/chat/conversations/${conversationId}/messages?after=${after}&limit=100`).set(bearer(userId));
    expect(res.status).toBe(200);
    expect(res.body.hasMore).toBe(false);
    return res.body.messages;
  }

  test('a recovered connection plus history after=N gives the full history with no gap and no duplicate', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const firstSent = await sendMessage(app(), alice, bob, 'before 1');
    const conversationId = firstSent.message.conversationId;
    const a = await connectAs(app(), alice);
    const b = await reconnectingClient(app(), bob);
    const seen = record<Sent>(b, 'new_message');

    // Bob holds the history so far plus what reached him live.
    const held = new Map<number, MessageJson>((await fullHistory(app(), bob, conversationId)).map((m) => [m.id, m]));
    const live = await sendMessage(app(), alice, bob, 'before 2');
    await until(seen, live.message.id);
    for (const { message } of seen) held.set(message.id, message);
    const N = Math.max(...held.keys());

    await dropTransport(b);
    await serverSawLeave(app(), bob);
    const droppedAt = seen.length;
    const reconnected = nextEvent(b, 'connect', 5000);
    const awayIds = await sendWhileAway(a, alice, bob, conversationId);
    await reconnected;
    expect(b.recovered).toBe(true);
    await settle();

    const replayed = seen.slice(droppedAt).map((e) => e.message);
    // Each missed event arrives once, in order.
    expect(replayed.map((m) => m.id)).toEqual(awayIds);
    const caughtUp = await catchUp(bob, conversationId, N);
    expect(caughtUp.map((m) => m.id)).toEqual(awayIds);

    const merged = new Map(held);
    for (const m of [...caughtUp, ...replayed]) merged.set(m.id, m);
    const mergedIds = [...merged.keys()].sort((x, y) => x - y);
    const server = await fullHistory(app(), alice, conversationId);
    expect(mergedIds).toEqual(server.map((m) => m.id));
    expect(new Set(server.map((m) => m.id)).size).toBe(server.length);
    expect(server.map((m) => m.content)).toEqual(['before 1', 'before 2', 'away 1 (REST)', 'away 2 (socket)', 'away 3 (REST)', 'away 4 (socket)']);

    // The recovered socket is a full member again: it still gets live messages, once each.
    const next = await sendMessage(app(), alice, bob, 'after');
    await until(seen, next.message.id);
    await settle();
    const ids = seen.map((e) => e.message.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await userSocketCount(app(), bob)).toBe(1);
  });

  test('a connection that cannot be recovered still catches up losslessly from history', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const firstSent = await sendMessage(app(), alice, bob, 'before');
    const conversationId = firstSent.message.conversationId;
    const a = await connectAs(app(), alice);
    // Bob has received no event yet, so his client holds no offset to recover from.
    const b = await reconnectingClient(app(), bob);
    const seen = record<Sent>(b, 'new_message');
    const N = firstSent.message.id;

    await dropTransport(b);
    await serverSawLeave(app(), bob);
    const reconnected = nextEvent(b, 'connect', 5000);
    const awayIds = await sendWhileAway(a, alice, bob, conversationId);
    await reconnected;
    expect(b.recovered).toBe(false);
    await settle();

    const merged = new Map<number, MessageJson>([[firstSent.message.id, firstSent.message]]);
    for (const m of [...(await catchUp(bob, conversationId, N)), ...seen.map((e) => e.message)]) merged.set(m.id, m);
    expect([...merged.keys()].sort((x, y) => x - y)).toEqual([N, ...awayIds]);
    expect([...merged.keys()].sort((x, y) => x - y)).toEqual((await fullHistory(app(), alice, conversationId)).map((m) => m.id));
    // A fresh connection is in bob's room again.
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'after');
    expect((await received).message.content).toBe('after');
  });

  test('a recovering connection whose token became invalid is refused with UNAUTHORIZED and receives nothing', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const b = await reconnectingClient(app(), bob);
    const seen = record<Sent>(b, 'new_message');
    const live = await sendMessage(app(), alice, bob, 'before');
    await until(seen, live.message.id);
    const packets: unknown[] = [];
    b.io.on('packet', (packet) => packets.push(packet));

    await dropTransport(b);
    await serverSawLeave(app(), bob);
    await sendMessage(app(), alice, bob, 'secret while away');
    b.auth = { token: 'bad' };
    const refused = await nextEvent<ConnectError>(b, 'connect_error', 5000);
    expect(refused.data).toEqual({ code: 'UNAUTHORIZED' });
    expect(refused.message.length).toBeGreaterThan(0);
    await settle();
    expect(b.connected).toBe(false);
    expect(await userSocketCount(app(), bob)).toBe(0);
    // Not even buffered on the wire before the refusal.
    expect(JSON.stringify(packets)).not.toContain('secret while away');
    expect(seen.map((e) => e.message.content)).toEqual(['before']);
  });

  test("a recovering connection whose token now names another user starts fresh as that user, without the first user's rooms or events", async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const b = await reconnectingClient(app(), bob);
    const seen = record<Sent>(b, 'new_message');
    const packets: unknown[] = [];
    b.io.on('packet', (packet) => packets.push(packet));
    const live = await sendMessage(app(), alice, bob, 'before');
    await until(seen, live.message.id);

    await dropTransport(b);
    await serverSawLeave(app(), bob);
    await sendMessage(app(), alice, bob, 'secret while away');
    b.auth = { token: tokenFor(stranger) };
    await nextEvent(b, 'connect', 5000);
    expect(await userSocketCount(app(), bob)).toBe(0);
    expect(await userSocketCount(app(), stranger)).toBe(1);
    const mine = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'secret after');
    await sendMessage(app(), alice, stranger, 'for the stranger');
    expect((await mine).message.content).toBe('for the stranger');
    await settle();
    expect(JSON.stringify(packets)).not.toMatch(/secret/);
    expect(seen.map((e) => e.message.content)).toEqual(['before', 'for the stranger']);
  });
});

// =============================================================================================

test('no client input ever caused an unhandled promise rejection', async () => {
  await settle();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

// =============================================================================================

describe('the recovery buffer keeps only the newest events', () => {
  const MAX_EVENTS = 4;
  const app = useSocketApp({ realtime: { recoveryMaxEvents: MAX_EVENTS } });
  const bufferedEvents = () => (app().realtime.io.of('/').adapter as unknown as { packets: unknown[] }).packets.length;

  /** Bob, on a client that reconnects by itself, holding the offset of one live message. */
  async function bobWithOffset(alice: number, bob: number): Promise<{ b: ClientSocket; conversationId: number; lastId: number }> {
    const b = await reconnectingClient(app(), bob);
    const live = nextEvent<Sent>(b, 'new_message');
    const sent = await sendMessage(app(), alice, bob, 'live');
    await live;
    return { b, conversationId: sent.message.conversationId, lastId: sent.message.id };
  }

  async function awayAndBack(b: ClientSocket, bob: number, whileAway: () => Promise<void>): Promise<void> {
    await dropTransport(b);
    await serverSawLeave(app(), bob);
    const reconnected = nextEvent(b, 'connect', 5000);
    await whileAway();
    await reconnected;
  }

  test('however many events go out, at most a quarter more than the bound are held', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (let i = 0; i < 12; i++) await sendMessage(app(), alice, bob, `m${i}`);
    // Three events a message: 36 went out.
    expect(bufferedEvents()).toBeGreaterThanOrEqual(MAX_EVENTS);
    expect(bufferedEvents()).toBeLessThanOrEqual(MAX_EVENTS * 1.25);
  });

  test('presence and typing changes are delivered but not kept for replay', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello');
    const a = await connectAs(app(), alice);
    const b = await comeOnline(app(), bob, a);
    const typing = nextEvent(a, 'user_typing');
    await sendMessage(app(), alice, bob, 'again');
    expect((await emitAck<AckJson>(b, 'typing', { conversationId: sent.message.conversationId })).ok).toBe(true);
    await typing;
    const kept = (app().realtime.io.of('/').adapter as unknown as { packets: { data: unknown[] }[] }).packets.map((p) => p.data[0]);
    expect(kept).toContain('new_message');
    expect(kept).not.toContain('presence');
    expect(kept).not.toContain('user_typing');
  });

  test('a client whose last event is still held is recovered with what it missed', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { b } = await bobWithOffset(alice, bob);
    const seen = record<Sent>(b, 'new_message');
    let awayId = 0;
    // One message while away: three events, so Bob's last one is still among the newest four.
    await awayAndBack(b, bob, async () => {
      awayId = (await sendMessage(app(), alice, bob, 'away')).message.id;
    });
    expect(b.recovered).toBe(true);
    await settle();
    expect(seen.map((e) => e.message.id)).toEqual([awayId]);
  });

  test('a client whose last event fell out is not recovered, and catches up from history with nothing missing', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { b, conversationId, lastId } = await bobWithOffset(alice, bob);
    const awayIds: number[] = [];
    await awayAndBack(b, bob, async () => {
      for (let i = 0; i < 3; i++) awayIds.push((await sendMessage(app(), alice, bob, `away ${i}`)).message.id);
    });
    expect(b.recovered).toBe(false);
    const res = await app().api().get(`/api/chat/conversations/${conversationId}/messages?after=${lastId}`).set(bearer(bob));
    expect(res.status).toBe(200);
    expect((res.body.messages as MessageJson[]).map((m) => m.id)).toEqual(awayIds);
    // The fresh connection is in Bob's room again.
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'after');
    expect((await received).message.content).toBe('after');
  });
});
