import { createDuetClient, type DuetClient, DuetApiError, type IncomingMessage } from '../../src/client';
import { createCast, historyOf } from '../helpers/factories';
import { tokenFor, useAppPerTest } from '../helpers/test-app';
import { eventually } from '../helpers/waiting';

/**
 * duet-chat/client against the real server (issue 16): typed REST and socket calls, sends whose
 * retries reuse their clientMessageId, catch-up after reconnects, and token refresh.
 */
describe('the typed client (duet-chat/client)', () => {
  // One send token a second after a burst of two: the client's retries meet a real 429.
  const app = useAppPerTest({ limits: { rates: { send: { burst: 2, perSecond: 5 } }, exemptUserIds: [] } });
  const clients: DuetClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.live.close();
  });

  function clientOf(userId: number, options: Partial<Parameters<typeof createDuetClient>[0]> = {}): DuetClient {
    const client = createDuetClient({ baseUrl: app().baseUrl, token: tokenFor(userId), retry: { baseMs: 20 }, ...options });
    clients.push(client);
    return client;
  }

  /** Resolves once the client has connected (and, for a reconnect, caught up). */
  const connected = (client: DuetClient) =>
    new Promise<void>((resolve, reject) => {
      client.live.socket.once('connect', () => resolve());
      client.live.socket.once('connect_error', reject);
      client.live.connect();
    });

  function inbox(client: DuetClient): IncomingMessage[] {
    const got: IncomingMessage[] = [];
    client.live.onMessage((incoming) => got.push(incoming));
    return got;
  }

  test('two users chat over both halves; each message arrives once; errors are DuetApiErrors with the contract code', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const [a, b] = [clientOf(alice), clientOf(bob)];
    await Promise.all([connected(a), connected(b)]);
    const bobGot = inbox(b);

    const overSocket = await a.live.sendMessage({ receiverId: bob, content: 'over the socket' });
    expect(overSocket.message.clientMessageId).toMatch(/^c-[0-9a-f]{32}$/);
    const overRest = await a.rest.send({ conversationId: overSocket.conversation.id, content: 'over REST' });
    await eventually(() => bobGot.length === 2, 'both messages');
    expect(bobGot.map(({ message, conversation }) => [message.content, conversation?.unreadCount])).toEqual([
      ['over the socket', 1],
      ['over REST', 2],
    ]);

    const page = await b.rest.history(overRest.conversation.id);
    expect(page.messages.map((m) => m.id)).toEqual([overSocket.message.id, overRest.message.id]);
    expect(await b.rest.markRead(overRest.conversation.id)).toMatchObject({ count: 2 });
    expect(await b.live.request('get_online_status', { userIds: [alice] })).toMatchObject({ statuses: [{ userId: alice, online: true }] });

    await expect(b.rest.getConversation(999_999)).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(b.live.request('join_conversation', { conversationId: 999_999 })).rejects.toBeInstanceOf(DuetApiError);
    await expect(b.rest.send({ receiverId: bob, content: 'me' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test('a send whose answer is lost is retried with the same clientMessageId and stored once', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    let lost = 0;
    // The request reaches the real server; only its answer is dropped, as a broken connection would.
    const lossyFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith('/send') && lost++ === 0) throw new TypeError('fetch failed');
      return res;
    };
    const a = clientOf(alice, { fetch: lossyFetch });
    const sent = await a.rest.send({ receiverId: bob, content: 'once' });
    expect(lost).toBe(2);
    expect((await historyOf(app(), alice, sent.conversation.id)).map((m) => [m.content, m.clientMessageId])).toEqual([['once', sent.message.clientMessageId]]);
  });

  test('sends refused with RATE_LIMITED wait retryAfterMs and go through, over both halves', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const statuses: number[] = [];
    const watchingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      statuses.push(res.status);
      return res;
    };
    const a = clientOf(alice, { fetch: watchingFetch });
    await connected(a);
    let socketSends = 0;
    a.live.socket.onAnyOutgoing((event) => void (event === 'send_message' && socketSends++));

    const overRest = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((content) => a.rest.send({ receiverId: bob, content })));
    expect(statuses).toContain(429);
    const overSocket = await Promise.all(['s1', 's2', 's3'].map((content) => a.live.sendMessage({ receiverId: bob, content })));
    expect(socketSends).toBeGreaterThan(3);
    const sent = [...overRest, ...overSocket].map((s) => s.message.content);
    expect(sent).toEqual(['r1', 'r2', 'r3', 'r4', 's1', 's2', 's3']);
    expect((await historyOf(app(), bob, overRest[0]!.conversation.id)).map((m) => m.content).sort()).toEqual([...sent].sort());
  });

  test('after a reconnect the server could not recover, each conversation catches up with after=, without duplicates', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const [a, b, s] = [clientOf(alice), clientOf(bob), clientOf(stranger)];
    await connected(b);
    const bobGot = inbox(b);
    const first = await a.rest.send({ receiverId: bob, content: 'before' });
    const fromStranger = await s.rest.send({ receiverId: bob, content: 'stranger before' });
    await eventually(() => bobGot.length === 2, 'the first messages');

    b.live.socket.disconnect(); // A client-side disconnect: the server keeps no session to recover.
    await a.rest.send({ conversationId: first.conversation.id, content: 'missed 1' });
    await a.rest.send({ conversationId: first.conversation.id, content: 'missed 2' });
    await s.rest.send({ conversationId: fromStranger.conversation.id, content: 'stranger missed' });
    await connected(b);
    expect(b.live.socket.recovered).toBe(false);
    await eventually(() => bobGot.length === 5, 'the catch-up');
    await a.rest.send({ conversationId: first.conversation.id, content: 'live again' });
    await eventually(() => bobGot.length === 6, 'the next live message');
    expect(bobGot.map(({ message }) => message.content)).toEqual(['before', 'stranger before', 'missed 1', 'missed 2', 'stranger missed', 'live again']);
  });

  test('a recovered reconnect gets the missed events replayed once, with no catch-up call', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    let historyCalls = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).includes('/messages')) historyCalls++;
      return fetch(input, init);
    };
    const [a, b] = [clientOf(alice), clientOf(bob, { fetch: countingFetch })];
    await connected(b);
    const bobGot = inbox(b);
    const first = await a.rest.send({ receiverId: bob, content: 'before' });
    await eventually(() => bobGot.length === 1, 'the first message');

    const reconnected = new Promise<void>((resolve) => b.live.socket.io.once('reconnect', () => resolve()));
    b.live.socket.io.engine.close(); // The transport drops: the session is kept for recovery.
    await a.rest.send({ conversationId: first.conversation.id, content: 'missed' });
    await reconnected;
    await eventually(() => bobGot.length === 2, 'the replayed message');
    expect(b.live.socket.recovered).toBe(true);
    expect(bobGot.map(({ message }) => message.content)).toEqual(['before', 'missed']);
    expect(historyCalls).toBe(0);
  });

  test('session_expired and a 401 get a fresh token from refreshToken, once, and the client carries on', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    let refreshes = 0;
    const b = clientOf(bob, {
      token: tokenFor(bob, { expiresIn: 2 }),
      refreshToken: async () => {
        refreshes++;
        return tokenFor(bob);
      },
    });
    const a = clientOf(alice);
    await connected(b);
    const bobGot = inbox(b);
    const expired = new Promise<void>((resolve) => b.live.socket.once('session_expired', () => resolve()));
    const first = await a.rest.send({ receiverId: bob, content: 'before expiry' });
    await expired;
    await a.rest.send({ conversationId: first.conversation.id, content: 'after expiry' });
    await eventually(() => bobGot.length === 2 && b.live.socket.connected, 'the session renewed');
    expect(bobGot.map(({ message }) => message.content)).toEqual(['before expiry', 'after expiry']);
    expect((await b.rest.unreadCount()).total).toBe(2);
    expect(refreshes).toBe(1);

    // A REST call with an expired token: one 401, a refresh, the same call again.
    const late = clientOf(alice, { token: tokenFor(alice, { expiresIn: -10 }), refreshToken: async () => (refreshes++, tokenFor(alice)) });
    expect((await late.rest.unreadCount()).total).toBe(0);
    expect(refreshes).toBe(2);
  }, 15_000);
});
