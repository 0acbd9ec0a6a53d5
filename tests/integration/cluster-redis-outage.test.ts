import { createCast } from '../helpers/factories';
import { type TestCluster, useCluster, withRedis } from '../helpers/cluster';
import { DEGRADED, READY, type RedisProxy, useRedisProxy, waitForReadiness, within } from '../helpers/outage';
import { type ClientSocket, connectAs, emitAck, nextEvent, nextReconnect, record, letStrayEventsArrive } from '../helpers/sockets';
import { eventually, letTimePass } from '../helpers/waiting';
import { bearer, type TestApp } from '../helpers/test-app';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * Redis goes away under two Duet nodes (API.md, "Several nodes"): a real TCP proxy between the
 * nodes and the machine's Redis is cut, then restored. Every call must answer, and quickly.
 */

/** Every call while Redis is away answers within this (a command timeout is 1 s). */
const PROMPT_MS = 2000;
/** The contract: nodes rejoin within 30 s of Redis coming back. */
const REJOIN_MS = 30_000;

type Ack = { ok: boolean; message: { id: number; conversationId: number; content: string } };

async function sendOver(socket: ClientSocket, receiverId: number, content: string) {
  const ack = await within(PROMPT_MS, emitAck<Ack>(socket, 'send_message', { receiverId, content }), 'send_message');
  expect(ack.ok).toBe(true);
  return ack.message;
}

async function restSend(node: TestApp, from: number, to: number, content: string) {
  return within(PROMPT_MS, node.api().post('/api/chat/send').set(bearer(from)).send({ receiverId: to, content }), 'POST /send');
}

/** Cuts Redis off and waits until every node says so on /ready; returns how long that took. */
async function cutRedis(cluster: TestCluster, ...proxies: RedisProxy[]): Promise<number> {
  await Promise.all(proxies.map((redis) => redis.proxy.cut()));
  const times = await Promise.all(cluster.nodes.map((node) => waitForReadiness(node, DEGRADED, 5000)));
  return Math.max(...times);
}

/** Every test leaves Redis reachable and the nodes rejoined, whatever it did. */
function restoreAfterEach(cluster: () => TestCluster, ...proxies: Array<() => RedisProxy>): void {
  afterEach(async () => {
    await Promise.all(proxies.map((redis) => redis().proxy.restore()));
    await Promise.all(cluster().nodes.map((node) => waitForReadiness(node, READY, REJOIN_MS)));
  }, REJOIN_MS + 5000);
}

describe('while Redis is away', () => {
  const redis = useRedisProxy();
  const cluster = useCluster(2, { realtime: { presenceGraceMs: 300 } }, () => redis().url);
  restoreAfterEach(cluster, redis);

  it('/ready answers 200 degraded within seconds, and ready again within 30 s of Redis returning', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    await waitForReadiness(nodeA, READY, 1000);
    const toDegraded = await cutRedis(cluster(), redis());
    expect(toDegraded).toBeLessThan(5000);

    const restoredAt = Date.now();
    await redis().proxy.restore();
    await Promise.all([nodeA, nodeB].map((node) => waitForReadiness(node, READY, REJOIN_MS)));
    const toReady = Date.now() - restoredAt;
    expect(toReady).toBeLessThan(REJOIN_MS);
  }, REJOIN_MS + 10_000);

  it('users of one node still get each other\'s messages, notifications and receipts, and REST sends answer 201 on every node', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice);
    const b = await connectAs(nodeA, bob);
    await cutRedis(cluster(), redis());

    const toBob = nextEvent<{ message: { content: string } }>(b, 'new_message');
    const notified = nextEvent<{ message: { content: string } }>(b, 'message_notification');
    const message = await sendOver(a, bob, 'same node');
    expect((await toBob).message.content).toBe('same node');
    expect((await notified).message.content).toBe('same node');

    const delivered = nextEvent<{ upToMessageId: number }>(a, 'messages_delivered');
    const deliveredAck = await within(PROMPT_MS, emitAck(b, 'message_delivered', { conversationId: message.conversationId, upToMessageId: message.id }), 'message_delivered');
    expect(deliveredAck.ok).toBe(true);
    expect((await delivered).upToMessageId).toBe(message.id);
    const read = nextEvent<{ readerId: number }>(a, 'messages_read');
    expect((await within(PROMPT_MS, emitAck(b, 'mark_as_read', { conversationId: message.conversationId }), 'mark_as_read')).ok).toBe(true);
    expect((await read).readerId).toBe(bob);

    const toAlice = nextEvent<{ message: { content: string } }>(a, 'new_message');
    expect((await restSend(nodeA, bob, alice, 'over REST on A')).status).toBe(201);
    expect((await toAlice).message.content).toBe('over REST on A');
    const typing = nextEvent(b, 'user_typing');
    expect((await within(PROMPT_MS, emitAck(a, 'typing', { conversationId: message.conversationId }), 'typing')).ok).toBe(true);
    expect(await typing).toEqual(expect.objectContaining({ userId: alice, isTyping: true }));
    expect((await restSend(nodeB, bob, alice, 'over REST on B')).status).toBe(201);
    const history = await within(PROMPT_MS, nodeB.api().get(`/api/chat/conversations/${message.conversationId}/messages`).set(bearer(alice)), 'history');
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['same node', 'over REST on A', 'over REST on B']);
  });

  it('presence between users of one node still comes and goes', async () => {
    const [nodeA] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice);
    const b = await connectAs(nodeA, bob);
    await cutRedis(cluster(), redis());
    await sendOver(a, bob, 'partners now');

    const offline = nextEvent<{ userId: number; online: boolean }>(a, 'presence');
    b.disconnect();
    expect(await offline).toEqual(expect.objectContaining({ userId: bob, online: false }));
    const online = nextEvent<{ userId: number; online: boolean }>(a, 'presence');
    await within(PROMPT_MS, connectAs(nodeA, bob), 'connect');
    expect(await online).toEqual(expect.objectContaining({ userId: bob, online: true }));
    const statuses = await within(PROMPT_MS, emitAck<{ statuses: { userId: number; online: boolean }[] }>(a, 'get_online_status', { userIds: [bob] }), 'get_online_status');
    expect(statuses.statuses).toEqual([expect.objectContaining({ userId: bob, online: true })]);
  });

  it('keeps every socket connected; once Redis is back each node closes the transports, clients reconnect unrecovered, catch up with after= and get events across nodes again', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice, { reconnect: true });
    const b = await connectAs(nodeB, bob, { reconnect: true });
    // Bob holds an event from the stream: without the closing on rejoin, his session would recover.
    const crossed = nextEvent<{ message: { id: number } }>(b, 'new_message');
    const before = await sendOver(a, bob, 'before');
    expect((await crossed).message.id).toBe(before.id);
    const drops = [...record<string>(a, 'disconnect'), ...record<string>(b, 'disconnect')];

    await cutRedis(cluster(), redis());
    const during = await sendOver(a, bob, 'during');
    await letStrayEventsArrive(300);
    expect(drops).toEqual([]);

    const reconnects = [nextReconnect(a, REJOIN_MS), nextReconnect(b, REJOIN_MS)];
    await redis().proxy.restore();
    expect(await Promise.all(reconnects)).toEqual([
      { reason: 'transport close', recovered: false },
      { reason: 'transport close', recovered: false },
    ]);

    const caughtUp = await within(PROMPT_MS, nodeB.api().get(`/api/chat/conversations/${before.conversationId}/messages?after=${before.id}`).set(bearer(bob)), 'catch-up');
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.messages.map((m: { id: number }) => m.id)).toEqual([during.id]);

    const bobSaw = record<{ message: { id: number } }>(b, 'new_message');
    const crossesAgain = nextEvent(b, 'new_message');
    const after = await sendOver(a, bob, 'after');
    await crossesAgain;
    await letStrayEventsArrive(300);
    expect(bobSaw.map((event) => event.message.id)).toEqual([after.id]);
    // Typing crosses by PUB/SUB: the node's subscription is back too.
    const typing = nextEvent(b, 'user_typing');
    expect((await emitAck(a, 'typing', { conversationId: after.conversationId })).ok).toBe(true);
    expect(await typing).toEqual(expect.objectContaining({ userId: alice, isTyping: true }));
  }, REJOIN_MS + 10_000);

  it('a client whose connection drops while Redis is away connects again at once, unrecovered', async () => {
    const [nodeA] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice, { reconnect: true });
    const b = await connectAs(nodeA, bob);
    await sendOver(b, alice, 'an offset to recover from');
    await cutRedis(cluster(), redis());

    const reconnected = nextReconnect(a, PROMPT_MS);
    nodeA.realtime.io.of('/').sockets.get(a.id!)!.conn.close();
    expect(await reconnected).toEqual({ reason: 'transport close', recovered: false });
    const toAlice = nextEvent(a, 'new_message');
    await sendOver(b, alice, 'still served');
    await toAlice;
  });

  it('a client that dropped before the outage and comes back after it is not recovered: its session misses what could not cross', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const front = await TcpProxy.start(Number(new URL(nodeA.baseUrl).port));
    try {
      const a = await connectAs(nodeA, alice, { reconnect: true, url: `http://127.0.0.1:${front.port}` });
      const b = await connectAs(nodeB, bob);
      const offset = nextEvent(a, 'new_message');
      await sendOver(b, alice, 'an offset to recover from');
      await offset;
      // Her transport drops while Redis is up: node A keeps her session.
      const back = nextReconnect(a, REJOIN_MS + 10_000);
      await front.cut();
      const kept = () => withRedis((redis) => redis.keys(`${cluster().keyPrefix}sio:session:*`));
      await eventually(async () => (await kept()).length === 1, 'one session kept', 3000);
      await cutRedis(cluster(), redis());
      await redis().proxy.restore();
      await Promise.all(cluster().nodes.map((node) => waitForReadiness(node, READY, REJOIN_MS)));
      const epoch = () => withRedis((redis) => redis.get(`${cluster().keyPrefix}sio:epoch`));
      await eventually(async () => (await epoch()) !== null, 'the outage epoch set', 3000);

      await front.restore();
      expect((await back).recovered).toBe(false);
    } finally {
      await front.close();
    }
  }, REJOIN_MS + 20_000);

  it('a user who left during the outage is offline everywhere once the nodes have rejoined', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob, stranger: carol } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice, { reconnect: true });
    const b = await connectAs(nodeB, bob);
    const c = await connectAs(nodeB, carol);
    await sendOver(a, bob, 'partners now');
    await sendOver(c, bob, 'partners too');
    await cutRedis(cluster(), redis());
    // Carol, on bob's node, hears him leave: his grace period ended while Redis was away.
    const leftDuringOutage = nextEvent<{ userId: number; online: boolean }>(c, 'presence');
    b.disconnect();
    expect(await leftDuringOutage).toEqual(expect.objectContaining({ userId: bob, online: false }));

    const reconnected = nextReconnect(a, REJOIN_MS);
    await redis().proxy.restore();
    await reconnected;
    const bobOffline = async () => {
      const answer = await within(PROMPT_MS, emitAck<{ statuses: { online: boolean }[] }>(a, 'get_online_status', { userIds: [bob] }), 'get_online_status');
      return answer.statuses[0]?.online === false;
    };
    // Within the contract's 3 s for going offline, counted from alice's reconnect.
    await eventually(bobOffline, 'bob offline', 3000);
  }, REJOIN_MS + 10_000);
});

describe('while Redis is away, the limits', () => {
  const redis = useRedisProxy();
  const cluster = useCluster(2, { limits: { rates: { send: { burst: 3, perSecond: 0.01 } } } }, () => redis().url);
  restoreAfterEach(cluster, redis);

  it('fall back to each node\'s own buckets: node A refuses past its burst, node B still takes sends', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    await cutRedis(cluster(), redis());
    for (const content of ['one', 'two', 'three']) expect((await restSend(nodeA, alice, bob, content)).status).toBe(201);
    const fourth = await restSend(nodeA, alice, bob, 'four');
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.code).toBe('RATE_LIMITED');
    expect((await restSend(nodeB, alice, bob, 'four, on B')).status).toBe(201);
  });
});

describe('while Redis hangs (connections open, nothing answered)', () => {
  const redis = useRedisProxy();
  const cluster = useCluster(1, {}, () => redis().url);
  restoreAfterEach(cluster, redis);

  it('no call waits on it for long, the node counts it as down within seconds, and rejoins when it answers again', async () => {
    const [node] = cluster().nodes as [TestApp];
    const { alice, bob } = await createCast(node.chat.sequelize);
    const b = await connectAs(node, bob);
    await waitForReadiness(node, READY, 1000);
    redis().proxy.freeze();

    // The send's bucket and its events wait for Redis at most a command timeout (1 s), then fall back.
    const toBob = nextEvent<{ message: { content: string } }>(b, 'new_message');
    expect((await restSend(node, alice, bob, 'while Redis hangs')).status).toBe(201);
    expect((await within(PROMPT_MS, toBob, 'new_message')).message.content).toBe('while Redis hangs');
    await waitForReadiness(node, DEGRADED, 5000);
    // A connection silent for 5 s with commands waiting is dropped: Redis is then down, not slow,
    // and calls fall back without waiting at all.
    await letTimePass(6000);
    const started = Date.now();
    expect((await restSend(node, alice, bob, 'Redis down')).status).toBe(201);
    expect(Date.now() - started).toBeLessThan(500);

    await redis().proxy.cut();
    await redis().proxy.restore();
    await waitForReadiness(node, READY, REJOIN_MS);
  }, REJOIN_MS + 20_000);
});

describe('after an outage longer than a node heartbeat, nodes that rejoin at different times', () => {
  // Each node reaches Redis through its own proxy, so that one can rejoin before the other.
  const redisA = useRedisProxy();
  const redisB = useRedisProxy();
  const cluster = useCluster(1, { realtime: { presenceGraceMs: 300 } }, () => redisA().url);
  beforeAll(() => cluster().addNode({ redis: { url: redisB().url, keyPrefix: cluster().keyPrefix } }));
  restoreAfterEach(cluster, redisA, redisB);

  /** Alice on node A and bob on node B have exchanged a message, and both nodes have a heartbeat in Redis. */
  async function partnersOnTwoNodes() {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice, { reconnect: true });
    const b = await connectAs(nodeB, bob, { reconnect: true });
    const crossed = nextEvent(b, 'new_message');
    await sendOver(a, bob, 'partners now');
    await crossed;
    // Their first heartbeat comes with their first sweep.
    await eventually(async () => (await withRedis((redis) => redis.zcard(`${cluster().keyPrefix}presence:nodes`))) === 2, 'both nodes in the presence set', 5000);
    return { alice, a, b };
  }

  it('do not take each other\'s users offline', async () => {
    const { alice, a, b } = await partnersOnTwoNodes();
    const presenceAtBob = record<{ userId: number; online: boolean }>(b, 'presence');

    await cutRedis(cluster(), redisA(), redisB());
    // Longer than a node's heartbeat lives (15 s in realtime.ts): both nodes look dead in Redis.
    await letTimePass(16_000);
    const bobBack = nextReconnect(b, REJOIN_MS);
    await redisB().proxy.restore();
    await bobBack;
    // Node B sweeps (every 2 s) while node A has not rejoined yet.
    await letTimePass(2500);
    const aliceBack = nextReconnect(a, REJOIN_MS);
    await redisA().proxy.restore();
    await aliceBack;

    const statuses = await within(PROMPT_MS, emitAck<{ statuses: { online: boolean }[] }>(b, 'get_online_status', { userIds: [alice] }), 'get_online_status');
    expect(statuses.statuses[0]!.online).toBe(true);
    // An offline announcement from a sweep would come within a sweep (every 2 s) of the rejoin.
    await letStrayEventsArrive(1000);
    expect(presenceAtBob.filter((event) => event.userId === alice && !event.online)).toEqual([]);
  }, 60_000);

  it('announce a node\'s users offline when it stays cut off, and online again when it rejoins', async () => {
    const { alice, b } = await partnersOnTwoNodes();

    // Only node A loses Redis: to node B it is a node that died, and alice leaves with it.
    await redisA().proxy.cut();
    const offline = await nextEvent<{ userId: number; online: boolean }>(b, 'presence', REJOIN_MS);
    expect(offline).toEqual(expect.objectContaining({ userId: alice, online: false }));
    const online = nextEvent<{ userId: number; online: boolean }>(b, 'presence', REJOIN_MS);
    await redisA().proxy.restore();
    expect(await online).toEqual(expect.objectContaining({ userId: alice, online: true }));
  }, 60_000);
});
