import jwt from 'jsonwebtoken';
import { io as connectClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import type { MessageJson } from '../../src/messages/message.presenter';
import type { Sent } from '../helpers/contract';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, emitAck, nextEvent } from '../helpers/sockets';
import { letTimePass } from '../helpers/waiting';
import { bearer, TEST_JWT_SECRET, type TestApp, tokenFor, useTestApp } from '../helpers/test-app';

/**
 * Sessions end with their token (API.md): at the token's exp, or once the host removes the user,
 * a socket gets `session_expired` and is disconnected; a token without exp is refused. Real
 * PostgreSQL, a real Socket.IO server and socket.io-client.
 */

type ConnectError = Error & { data?: { code?: string } };
type Logged = { event: string; payload: unknown; at: number };

const DAY_S = 24 * 60 * 60;

const extraClients = new Set<ClientSocket>();
afterEach(() => {
  for (const socket of extraClients) socket.disconnect();
  extraClients.clear();
});

function openClient(t: TestApp, options: Partial<ManagerOptions & SocketOptions>): ClientSocket {
  const socket = connectClient(t.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  extraClients.add(socket);
  return socket;
}

/** Records, in arrival order and with the time, what ends a session. */
function watchEnd(socket: ClientSocket): Logged[] {
  const log: Logged[] = [];
  socket.on('session_expired', (payload: unknown) => log.push({ event: 'session_expired', payload, at: Date.now() }));
  socket.on('disconnect', (payload: unknown) => log.push({ event: 'disconnect', payload, at: Date.now() }));
  return log;
}

const expiryOf = (token: string) => (jwt.decode(token) as { exp: number }).exp * 1000;

const noExpToken = (userId: number) => jwt.sign({ sub: String(userId) }, TEST_JWT_SECRET, { algorithm: 'HS256' });

async function userSocketCount(t: TestApp, userId: number): Promise<number> {
  return (await t.realtime.io.in(`user_${userId}`).fetchSockets()).length;
}

describe('a socket whose token expires', () => {
  const app = useTestApp();

  test('gets session_expired, then is disconnected by the server, within a second after exp and not before', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const token = tokenFor(alice, { expiresIn: 2 });
    const a = await connectAs(app(), alice, { token });
    const b = await connectAs(app(), bob);
    const log = watchEnd(a);

    await nextEvent(a, 'disconnect', 4000);
    const exp = expiryOf(token);
    expect(log.map(({ event, payload }) => ({ event, payload }))).toEqual([
      { event: 'session_expired', payload: { reason: 'token_expired' } },
      // The server closed it: the client does not reconnect on its own after this reason.
      { event: 'disconnect', payload: 'io server disconnect' },
    ]);
    expect(log[0]!.at).toBeGreaterThanOrEqual(exp);
    expect(log[1]!.at - exp).toBeLessThan(1000);
    expect(await userSocketCount(app(), alice)).toBe(0);

    // Bob's session, on a token valid for an hour, goes on.
    expect(b.connected).toBe(true);
    expect(await emitAck(b, 'get_online_status', { userIds: [alice] })).toMatchObject({ ok: true });
  });

  test('a token that expires 40 days ahead does not end the session early (Node timers overflow past 24.8 days)', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const a = await connectAs(app(), alice, { token: tokenFor(alice, { expiresIn: 40 * DAY_S }) });
    const log = watchEnd(a);
    // Node runs a timer past its 24.8-day limit after 1 ms: time for an overflowed one to fire.
    await letTimePass(500);
    expect(log).toEqual([]);
    expect(await emitAck(a, 'get_online_status', { userIds: [alice] })).toMatchObject({ ok: true });
    expect(await userSocketCount(app(), alice)).toBe(1);
  });

  test('the client refreshes as docs/realtime.md shows: the old token is refused, a fresh one connects and catches up with after=', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const held = (await sendMessage(app(), bob, alice, 'before')).message;
    let token = tokenFor(alice, { expiresIn: 2 });
    const a = openClient(app(), { auth: (send) => send({ token }) });
    await nextEvent(a, 'connect');
    const expired = nextEvent<{ reason: string }>(a, 'session_expired', 4000);
    const gone = nextEvent<string>(a, 'disconnect', 4000);
    expect(await expired).toEqual({ reason: 'token_expired' });
    expect(await gone).toBe('io server disconnect');

    await sendMessage(app(), bob, alice, 'while away');
    // Reconnecting with the expired token is refused ...
    const refused = nextEvent<ConnectError>(a, 'connect_error');
    a.connect();
    expect((await refused).data).toEqual({ code: 'UNAUTHORIZED' });
    // ... and with a fresh one from the host it is back.
    token = tokenFor(alice);
    const connected = nextEvent(a, 'connect');
    a.connect();
    await connected;

    const res = await app().api().get(`/api/chat/conversations/${held.conversationId}/messages?after=${held.id}`).set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: MessageJson) => m.content)).toEqual(['while away']);
    expect(res.body.hasMore).toBe(false);
    const live = nextEvent<Sent>(a, 'new_message');
    await sendMessage(app(), bob, alice, 'live again');
    expect((await live).message.content).toBe('live again');
    expect(await emitAck(a, 'get_online_status', { userIds: [bob] })).toMatchObject({ ok: true });
  });
});

describe('a socket whose user the host removes', () => {
  const USER_CACHE_MS = 1500;
  const app = useTestApp({ userCacheMs: USER_CACHE_MS });

  test(`gets session_expired user_removed within USER_CACHE_MS (${USER_CACHE_MS} ms) and is disconnected; others go on`, async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const a1 = await connectAs(app(), alice);
    const a2 = await connectAs(app(), alice);
    const b = await connectAs(app(), bob);
    const logs = [watchEnd(a1), watchEnd(a2)];
    const bobLog = watchEnd(b);

    const removedAt = Date.now();
    await app().chat.sequelize.query('DELETE FROM users WHERE id = :alice', { replacements: { alice } });
    await Promise.all([nextEvent(a1, 'disconnect', USER_CACHE_MS + 1000), nextEvent(a2, 'disconnect', USER_CACHE_MS + 1000)]);

    for (const log of logs) {
      expect(log.map(({ event, payload }) => ({ event, payload }))).toEqual([
        { event: 'session_expired', payload: { reason: 'user_removed' } },
        { event: 'disconnect', payload: 'io server disconnect' },
      ]);
      expect(log[1]!.at - removedAt).toBeLessThanOrEqual(USER_CACHE_MS);
    }
    expect(await userSocketCount(app(), alice)).toBe(0);
    // The check forgot the removed user, so REST refuses the token at once, cache or not.
    expect((await app().api().get('/api/chat/unread-count').set(bearer(alice))).status).toBe(401);
    expect(await emitAck(b, 'get_online_status', { userIds: [alice] })).toMatchObject({ ok: true });
    expect(bobLog).toEqual([]);
  });

  test('the check asks about many users in chunks and answers for each', async () => {
    const kept = [await createUser(app().chat.sequelize, 'One'), await createUser(app().chat.sequelize, 'Two')];
    const asked = [...Array.from({ length: 2500 }, (_, i) => 100_000 + i), ...kept];
    expect([...(await app().chat.services.users.stillPresent(asked))].sort((x, y) => x - y)).toEqual(kept);
  });
});

describe('a token without exp', () => {
  const app = useTestApp();

  test('is refused: REST 401 UNAUTHORIZED and a socket handshake with UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().get('/api/chat/unread-count').set('Authorization', `Bearer ${noExpToken(alice)}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: 'UNAUTHORIZED', message: expect.stringMatching(/exp/) });
    const err = await connectAs(app(), alice, { token: noExpToken(alice) }).then(
      () => undefined,
      (error: ConnectError) => error,
    );
    expect(err?.data).toEqual({ code: 'UNAUTHORIZED' });
  });
});

describe('a token without exp with allowNoExp (JWT_ALLOW_NO_EXP=true)', () => {
  const app = useTestApp({ auth: { secret: TEST_JWT_SECRET, allowNoExp: true } });

  test('is accepted on REST and the socket, and the session lasts', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const res = await app().api().get('/api/chat/unread-count').set('Authorization', `Bearer ${noExpToken(alice)}`);
    expect(res.status).toBe(200);
    const a = await connectAs(app(), alice, { token: noExpToken(alice) });
    const log = watchEnd(a);
    const received = nextEvent<Sent>(a, 'new_message');
    await sendMessage(app(), bob, alice, 'still here');
    expect((await received).message.content).toBe('still here');
    // A user check (every second with userCacheMs 0) passes over it.
    await letTimePass(1200);
    expect(log).toEqual([]);
    // Tokens with exp still expire as usual.
    expect((await app().api().get('/api/chat/unread-count').set(bearer(alice, { expiresIn: -10 }))).status).toBe(401);
  });
});
