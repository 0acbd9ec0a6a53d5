import type { MessageJson } from '../../src/messages/message.presenter';
import { type TestCluster, useCluster, useClusterPerTest } from '../helpers/cluster';
import { createCast, createUser, historyOf, sendMessage } from '../helpers/factories';
import { startNodeProcess, useNodeBuild } from '../helpers/node-process';
import { ResilientClient } from '../helpers/resilient-client';
import { type ClientSocket, connectAs, connectTo, emitAck, nextEvent, nextEventWhere, record, letStrayEventsArrive } from '../helpers/sockets';
import { eventually, letTimePass } from '../helpers/waiting';
import { startBalancer, type TcpBalancer } from '../helpers/tcp-balancer';
import type { TestApp } from '../helpers/test-app';

/**
 * Losing a node (API.md, "Several nodes"): node A is a child process, killed or stopped for real;
 * node B runs in this process, and clients reach A through a TCP balancer that sends each new
 * connection to the first node that accepts it, so A's clients land on B.
 */

/** The contract's bound for announcing the users of a node that died without a word. */
const DEAD_NODE_OFFLINE_MS = 30_000;

interface Presence {
  userId: number;
  online: boolean;
}


/** The whole conversation as history answers it (one page: the tests stay under 100 messages). */
const sorted = (ids: Iterable<number>) => [...ids].sort((x, y) => x - y);

describe('a node lost while its clients use it', () => {
  // Per test: a killed node's share of presence outlives the test in Redis, and user ids repeat.
  const cluster = useClusterPerTest(1);
  const build = useNodeBuild();
  let balancer: TcpBalancer | undefined;
  afterEach(() => balancer?.close());

  /** Node A as a child process in B's cluster, the balancer in front of A then B, alice and bob partners. */
  async function scene(get: () => TestCluster) {
    const nodeB = get().nodes[0]!;
    const nodeA = await startNodeProcess(build(), get().keyPrefix);
    balancer = await startBalancer([nodeA.port, Number(new URL(nodeB.baseUrl).port)]);
    const cast = await createCast(nodeB.chat.sequelize);
    const hello = await sendMessage(nodeB, cast.bob, cast.alice, 'hello', { clientMessageId: 'hello' });
    return { ...cast, nodeA, nodeB, balancer, conversationId: hello.conversation.id };
  }

  it('SIGKILL while both users send: alice reconnects to node B and catches up; every acked message is stored once and held once by each side', async () => {
    const { alice, bob, nodeA, nodeB, balancer, conversationId } = await scene(cluster);
    const a = await ResilientClient.connect(balancer.url, alice, conversationId);
    const b = await ResilientClient.connect(nodeB.baseUrl, bob, conversationId);
    // Paced like people typing fast, so that both are mid-stream when A dies.
    const count = 30;
    const sending = Promise.all([a.sendAll(bob, count, 20), b.sendAll(alice, count, 20)]);

    await Promise.all([a.untilAcked(10), b.untilAcked(10)]);
    // A dies with alice's next send on its way (it cannot have reached A: the balancer runs in this
    // process), and her reconnection waits until bob has sent two more: she must retry and catch up.
    const release = balancer.hold();
    await a.nextSendEmitted();
    nodeA.process.kill('SIGKILL');
    const bobAtKill = b.acked.length;
    expect(bobAtKill).toBeLessThan(count - 2);
    expect(await nodeA.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await b.untilAcked(bobAtKill + 2);
    release();
    await sending;
    await a.ready();
    expect(a.reconnects).toBe(1);
    expect(a.retries).toBeGreaterThanOrEqual(1);
    expect(a.caughtUp.length).toBeGreaterThanOrEqual(2);

    const stored = await historyOf(nodeB, alice, conversationId);
    const storedIds = stored.map((m) => m.id);
    // Every acked message is stored, once: no two rows share a clientMessageId, and nothing else is there.
    expect(stored[0]!.clientMessageId).toBe('hello');
    expect(new Set(stored.map((m) => m.clientMessageId)).size).toBe(stored.length);
    expect(sorted(storedIds)).toEqual(sorted([stored[0]!.id, ...a.acked.map((m) => m.id), ...b.acked.map((m) => m.id)]));
    for (const m of [...a.acked, ...b.acked]) expect(stored.find((s) => s.id === m.id)?.clientMessageId).toBe(m.clientMessageId);

    // Each side ends up holding the whole conversation (live events plus alice's catch-up), no
    // socket got one message twice, and hello came before the clients connected.
    const expected = sorted(storedIds.slice(1));
    await eventually(() => expected.every((id) => a.held().has(id) && b.held().has(id)), 'both sides hold every stored message', 5000);
    await letStrayEventsArrive();
    for (const side of [a, b]) {
      expect(new Set(side.live).size).toBe(side.live.length);
      expect(sorted(side.held())).toEqual(expected);
    }
  }, 30_000);

  it('SIGKILL: a user who does not come back is announced offline to a partner on node B within 30 s; one who reconnected is not', async () => {
    const { alice, bob, nodeA, nodeB, balancer } = await scene(cluster);
    const carol = await createUser(nodeB.chat.sequelize, 'Carol');
    await sendMessage(nodeB, bob, carol, 'hello carol');
    const b = await connectAs(nodeB, bob);
    const seen = record<Presence>(b, 'presence');
    const a = await connectTo(balancer.url, alice, { reconnect: true });
    await connectTo(nodeA.baseUrl, carol);
    await eventually(() => seen.filter((p) => p.online).length === 2, 'alice and carol announced online');

    const aliceBack = nextEvent(a, 'connect', 5000);
    const carolOffline = nextEventWhere<Presence>(b, 'presence', (p) => p.userId === carol && !p.online, DEAD_NODE_OFFLINE_MS + 2000);
    const killedAt = Date.now();
    nodeA.process.kill('SIGKILL');
    await aliceBack;
    await carolOffline;
    const offlineAfterMs = Date.now() - killedAt;
    expect(offlineAfterMs).toBeLessThan(DEAD_NODE_OFFLINE_MS);

    // The same sweep took A's share of alice off: had it announced her, it would have by now.
    await letStrayEventsArrive();
    expect(seen.filter((p) => p.userId === alice)).toEqual([expect.objectContaining({ online: true })]);
    expect(a.connected).toBe(true);
  }, DEAD_NODE_OFFLINE_MS + 10_000);

  it('SIGTERM: alice reconnects to node B by herself, her session recovered, and gets what bob sent meanwhile once', async () => {
    const { alice, bob, nodeA, nodeB, balancer } = await scene(cluster);
    const b = await connectAs(nodeB, bob);
    const a = await connectTo(balancer.url, alice, { reconnect: true });
    // Recovery needs an offset: alice has received an event through the stream.
    const first = nextEvent(a, 'new_message');
    expect((await emitAck(b, 'send_message', { receiverId: alice, content: 'before' })).ok).toBe(true);
    await first;
    const received = record<{ message: MessageJson }>(a, 'new_message');

    // Her reconnection waits at the balancer until bob's message is sent and A has exited, so it
    // can only reach her as a missed packet of her recovered session.
    const release = balancer.hold();
    const dropped = nextEvent<string>(a, 'disconnect');
    nodeA.process.kill('SIGTERM');
    expect(await dropped).toBe('transport close');
    const meanwhile = await emitAck<{ ok: boolean; message: MessageJson }>(b, 'send_message', { receiverId: alice, content: 'meanwhile' });
    expect(meanwhile.ok).toBe(true);
    expect(await nodeA.exited).toEqual({ code: 0, signal: null });

    const back = nextEvent(a, 'connect', 5000);
    release();
    await back;
    expect(a.recovered).toBe(true);
    await eventually(() => received.length > 0, 'the message sent meanwhile');
    await letStrayEventsArrive();
    expect(received.map((e) => e.message.id)).toEqual([meanwhile.message.id]);
  });
});

describe('three nodes', () => {
  const cluster = useCluster(3, { realtime: { presenceGraceMs: 300 } });

  async function scene(get: () => TestCluster) {
    const [nodeA, nodeB, nodeC] = get().nodes as [TestApp, TestApp, TestApp];
    const cast = await createCast(nodeA.chat.sequelize);
    await sendMessage(nodeA, cast.alice, cast.bob, 'partners now');
    const alices: ClientSocket[] = [await connectAs(nodeA, cast.alice), await connectAs(nodeB, cast.alice), await connectAs(nodeC, cast.alice)];
    return { ...cast, alices, b: await connectAs(nodeC, cast.bob) };
  }

  it("delivers bob's send on node C once to each of alice's sockets on nodes A, B and C", async () => {
    const { alice, alices, b } = await scene(cluster);
    const received = alices.map((socket) => record<{ message: MessageJson }>(socket, 'new_message'));
    const sent = await emitAck<{ ok: boolean; message: MessageJson }>(b, 'send_message', { receiverId: alice, content: 'to all three' });
    expect(sent.ok).toBe(true);
    await eventually(() => received.every((events) => events.length > 0), "every socket of alice's got it");
    await letStrayEventsArrive(300);
    for (const events of received) expect(events.map((e) => e.message.id)).toEqual([sent.message.id]);
  });

  it('announces alice offline once, only after her last socket on the last node leaves', async () => {
    const { alice, alices, b } = await scene(cluster);
    const seen = record<Presence>(b, 'presence');
    const [onA, onB, onC] = alices as [ClientSocket, ClientSocket, ClientSocket];
    onA.disconnect();
    onB.disconnect();
    // Past the grace period and a sweep of every node: her socket on C keeps her online.
    await letTimePass(2500);
    expect(seen).toEqual([]);
    const offline = nextEvent<Presence>(b, 'presence');
    onC.disconnect();
    expect(await offline).toEqual(expect.objectContaining({ userId: alice, online: false }));
    await letStrayEventsArrive(300);
    expect(seen).toHaveLength(1);
  });
});
