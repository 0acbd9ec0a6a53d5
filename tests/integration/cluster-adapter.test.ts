import fs from 'node:fs';
import path from 'node:path';
import { createCast } from '../helpers/factories';
import { TEST_REDIS_URL, type TestCluster, useCluster, withRedis } from '../helpers/cluster';
import { type ClientSocket, connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { TcpProxy } from '../helpers/tcp-proxy';
import { bearer, startTestApp, type TestApp } from '../helpers/test-app';

/**
 * The guard of src/cluster/cluster-adapter.ts, which reaches into @socket.io/redis-streams-adapter:
 * what goes into the stream, recovery across nodes, the bounded restore, and the pinned versions
 * those depend on. A bump of either package must fail here before it changes behaviour.
 */

type Ack = { ok: boolean; message: { id: number; conversationId: number } };

async function send(socket: ClientSocket, receiverId: number, content: string) {
  const ack = await emitAck<Ack>(socket, 'send_message', { receiverId, content });
  expect(ack.ok).toBe(true);
  return ack.message;
}

/** The stream the nodes share, as Redis holds it: each entry's event name, in order. */
function streamEvents(keyPrefix: string): Promise<string[]> {
  return withRedis(async (redis) =>
    (await redis.xrange(`${keyPrefix}socket.io`, '-', '+')).map(([, fields]) => {
      const data = fields[fields.indexOf('data') + 1]!;
      return (JSON.parse(data) as { packet: { data: [string] } }).packet.data[0];
    }),
  );
}

/** Entries ever added to the stream (XINFO's entries-added, Redis 7.0+): unlike its length, trimming does not lower it. */
const streamLength = (keyPrefix: string) =>
  withRedis(async (redis) => {
    const info = (await redis.xinfo('STREAM', `${keyPrefix}socket.io`)) as unknown[];
    return Number(info[info.indexOf('entries-added') + 1]);
  });

const portOf = (node: TestApp) => Number(new URL(node.baseUrl).port);

/**
 * Alice connected through a balancer (a TCP proxy) to `node`, with socket.io-client's own
 * reconnection, and holding a stream offset: bob's message crossed to her.
 */
async function aliceBehindBalancer(cluster: TestCluster, node: TestApp) {
  const [, nodeB] = cluster.nodes as [TestApp, TestApp];
  const cast = await createCast(nodeB.chat.sequelize);
  const balancer = await TcpProxy.start(portOf(node));
  const a = await connectAs(node, cast.alice, { reconnect: true, url: `http://127.0.0.1:${balancer.port}` });
  const b = await connectAs(nodeB, cast.bob);
  const crossed = nextEvent(a, 'new_message');
  const first = await send(b, cast.alice, 'an offset to recover from');
  await crossed;
  return { ...cast, nodeB, balancer, a, b, first };
}

describe('the stream between nodes', () => {
  const cluster = useCluster(2, { realtime: { presenceGraceMs: 300 } });

  it('holds message events but never presence or user_typing, which cross by PUB/SUB', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob } = await createCast(nodeA.chat.sequelize);
    const a = await connectAs(nodeA, alice);
    const b = await connectAs(nodeB, bob);
    const crossed = nextEvent(b, 'new_message');
    const message = await send(a, bob, 'into the stream');
    await crossed;

    const typing = nextEvent(b, 'user_typing');
    expect((await emitAck(a, 'typing', { conversationId: message.conversationId })).ok).toBe(true);
    expect(await typing).toEqual(expect.objectContaining({ userId: alice, isTyping: true }));
    const offline = nextEvent(a, 'presence');
    b.disconnect();
    expect(await offline).toEqual(expect.objectContaining({ userId: bob, online: false }));

    const events = await streamEvents(cluster().keyPrefix);
    expect(events).toEqual(expect.arrayContaining(['new_message', 'message_notification']));
    expect(events).not.toContain('presence');
    expect(events).not.toContain('user_typing');
  });
});

describe('recovery across nodes', () => {
  const cluster = useCluster(2);

  it('a client whose node shuts down recovers on another node and gets what was sent meanwhile, once', async () => {
    const [, nodeB] = cluster().nodes as [TestApp, TestApp];
    // A third node of the same cluster, which this test shuts down.
    const nodeC = await startTestApp({ redis: { url: TEST_REDIS_URL, keyPrefix: cluster().keyPrefix } });
    const { alice, balancer, a, b, first } = await aliceBehindBalancer(cluster(), nodeC);
    try {
      const aliceSaw = record<{ message: { id: number } }>(a, 'new_message');
      const dropped = nextEvent<string>(a, 'disconnect');
      await nodeC.close();
      expect(await dropped).toBe('transport close');

      // Node C is gone: the balancer's connections to it are refused until it routes to node B.
      const meanwhile = [await send(b, alice, 'one'), await send(b, alice, 'two'), await send(b, alice, 'three')];
      const reconnected = nextEvent(a, 'connect', 5000);
      await balancer.restore(portOf(nodeB));
      await reconnected;
      expect(a.recovered).toBe(true);
      await letStrayEventsArrive(300);
      expect(aliceSaw.map((event) => event.message.id)).toEqual(meanwhile.map((message) => message.id));
      expect(aliceSaw.map((event) => event.message.id)).not.toContain(first.id);
    } finally {
      await balancer.close();
      await nodeC.close();
    }
  });
});

describe('restoring a session reads a bounded amount', () => {
  const MAX_REPLAY = 5;
  /**
   * Messages (three entries each) past anything the stream can keep: MAXLEN ~ trims in whole nodes
   * of 100 entries, so it may keep up to 100 more than asked, and restoring reads that much.
   */
  const PAST_REACH = Math.ceil((MAX_REPLAY + 100) / 3) + 1;
  const cluster = useCluster(2, { realtime: { recoveryMaxReplay: MAX_REPLAY } });

  /** Alice's transport drops, bob sends `count` messages, and she reconnects on node B. */
  async function missing(count: number) {
    const [nodeA] = cluster().nodes as [TestApp, TestApp];
    const scene = await aliceBehindBalancer(cluster(), nodeA);
    const { alice, nodeB, balancer, a, b, first } = scene;
    const before = await streamLength(cluster().keyPrefix);
    const dropped = nextEvent<string>(a, 'disconnect');
    await balancer.cut();
    expect(await dropped).toBe('transport close');
    const sent = [];
    for (let i = 0; i < count; i++) sent.push(await send(b, alice, `missed ${i}`));
    const missedEntries = (await streamLength(cluster().keyPrefix)) - before;

    const aliceSaw = record<{ message: { id: number } }>(a, 'new_message');
    const reconnected = nextEvent(a, 'connect', 5000);
    await balancer.restore(portOf(nodeB));
    await reconnected;
    await balancer.close();
    return { ...scene, sent, missedEntries, aliceSaw, first, alice, nodeB };
  }

  it('recovers a client that missed no more entries than the bound', async () => {
    const { a, sent, missedEntries, aliceSaw } = await missing(1);
    expect(missedEntries).toBeLessThanOrEqual(MAX_REPLAY);
    expect(a.recovered).toBe(true);
    await letStrayEventsArrive(300);
    expect(aliceSaw.map((event) => event.message.id)).toEqual(sent.map((message) => message.id));
  });

  it('does not recover a client that missed more; it catches up with after=', async () => {
    const { a, sent, missedEntries, aliceSaw, first, alice, nodeB } = await missing(PAST_REACH);
    expect(missedEntries).toBeGreaterThan(MAX_REPLAY + 100);
    expect(a.recovered).toBe(false);
    await letStrayEventsArrive(300);
    expect(aliceSaw).toEqual([]);
    const caughtUp = await nodeB.api().get(`/api/chat/conversations/${first.conversationId}/messages?after=${first.id}`).set(bearer(alice));
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.messages.map((m: { id: number }) => m.id)).toEqual(sent.map((message) => message.id));
  });
});

describe('the adapter versions cluster-adapter.ts was written against', () => {
  const PINNED = { '@socket.io/redis-streams-adapter': '0.3.1', 'socket.io-adapter': '2.5.8' };
  const root = path.resolve(__dirname, '../..');

  it.each(Object.entries(PINNED))('%s is pinned to %s in package.json and installed at exactly that version', (name, version) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies[name]).toBe(version);
    // Resolved as src/cluster/cluster-adapter.ts, socket.io and the streams adapter each resolve it.
    for (const from of [path.join(root, 'src/cluster'), path.dirname(require.resolve('socket.io')), path.dirname(require.resolve('@socket.io/redis-streams-adapter'))]) {
      const installed = require.resolve(`${name}/package.json`, { paths: [from] });
      expect({ from, version: (JSON.parse(fs.readFileSync(installed, 'utf8')) as { version: string }).version }).toEqual({ from, version });
    }
  });
});
