import { createCast, createUser } from '../helpers/factories';
import { type TestCluster, useCluster } from '../helpers/cluster';
import { type ClientSocket, connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { eventually, letTimePass } from '../helpers/waiting';
import { bearer, type TestApp } from '../helpers/test-app';

/**
 * Two Duet nodes sharing the test PostgreSQL and the machine's Redis (API.md, "Several nodes"):
 * alice on node A, bob on node B, and every event crosses once.
 */


/** Every event a socket receives, by name. */
function recordAll(socket: ClientSocket): string[] {
  const seen: string[] = [];
  socket.onAny((event: string) => seen.push(event));
  return seen;
}

async function scene(cluster: () => TestCluster) {
  const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
  const cast = await createCast(nodeA.chat.sequelize);
  const a = await connectAs(nodeA, cast.alice);
  const b = await connectAs(nodeB, cast.bob);
  const s = await connectAs(nodeB, cast.stranger);
  return { ...cast, nodeA, nodeB, a, b, strangerSaw: recordAll(s) };
}

async function send(socket: ClientSocket, receiverId: number, content: string) {
  const ack = await emitAck<{ ok: boolean; message: { id: number; conversationId: number } }>(socket, 'send_message', { receiverId, content });
  expect(ack.ok).toBe(true);
  return ack.message;
}

describe('two nodes', () => {
  const cluster = useCluster(2, { realtime: { presenceGraceMs: 300, typingTtlMs: 600 } });

  it('carries new_message and message_notification from node A to node B once each', async () => {
    const { bob, a, b, strangerSaw } = await scene(cluster);
    const bobSaw = recordAll(b);
    const aliceSaw = recordAll(a);
    const toBob = nextEvent<{ message: { content: string } }>(b, 'new_message');
    const notified = nextEvent<{ message: { content: string } }>(b, 'message_notification');
    await send(a, bob, 'across');
    expect((await toBob).message.content).toBe('across');
    expect((await notified).message.content).toBe('across');
    await letStrayEventsArrive(300);
    expect(bobSaw.filter((e) => e === 'new_message')).toHaveLength(1);
    expect(bobSaw.filter((e) => e === 'message_notification')).toHaveLength(1);
    expect(aliceSaw.filter((e) => e === 'new_message')).toHaveLength(1);
    expect(strangerSaw).toEqual([]);
  });

  it('carries a REST send on node B to the sender\'s own socket on node A', async () => {
    const { alice, bob, nodeB, a } = await scene(cluster);
    const echoed = nextEvent<{ message: { content: string } }>(a, 'new_message');
    const res = await nodeB.api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'via B' });
    expect(res.status).toBe(201);
    expect((await echoed).message.content).toBe('via B');
  });

  it('carries receipts, delete, typing and its expiry across', async () => {
    const { alice, bob, a, b } = await scene(cluster);
    const message = await send(a, bob, 'to be read');
    await nextEvent(b, 'new_message');

    const delivered = nextEvent<{ upToMessageId: number }>(a, 'messages_delivered');
    expect((await emitAck(b, 'message_delivered', { conversationId: message.conversationId, upToMessageId: message.id })).ok).toBe(true);
    expect((await delivered).upToMessageId).toBe(message.id);

    const read = nextEvent<{ readerId: number }>(a, 'messages_read');
    expect((await emitAck(b, 'mark_as_read', { conversationId: message.conversationId })).ok).toBe(true);
    expect((await read).readerId).toBe(bob);

    const typingSeen = record<{ isTyping: boolean; userId: number }>(b, 'user_typing');
    expect((await emitAck(a, 'typing', { conversationId: message.conversationId })).ok).toBe(true);
    // The false comes when the typing TTL (600 ms) runs out.
    await eventually(() => typingSeen.length >= 2, 'typing started and expired');
    expect(typingSeen).toEqual([
      { conversationId: message.conversationId, userId: alice, isTyping: true },
      { conversationId: message.conversationId, userId: alice, isTyping: false },
    ]);

    const deleted = nextEvent<{ messageId: number }>(b, 'message_deleted');
    expect((await emitAck(a, 'delete_message', { messageId: message.id })).ok).toBe(true);
    expect((await deleted).messageId).toBe(message.id);
  });

  it('carries an admin restore and purge on node A to bob on node B', async () => {
    const { bob, nodeA, a, b } = await scene(cluster);
    const message = await send(a, bob, 'audited');
    await nextEvent(b, 'new_message');
    const deleted = nextEvent(b, 'message_deleted');
    await emitAck(a, 'delete_message', { messageId: message.id });
    await deleted;

    const restored = nextEvent<{ message: { id: number } }>(b, 'message_restored');
    const admin = bearer(await createUser(nodeA.chat.sequelize, 'Admin'), { admin: true });
    expect((await nodeA.api().post(`/api/chat/admin/messages/${message.id}/restore`).set(admin).send({ reason: 'appeal' })).status).toBe(200);
    expect((await restored).message.id).toBe(message.id);

    const purged = nextEvent<{ messageId: number }>(b, 'message_deleted');
    expect((await nodeA.api().delete(`/api/chat/admin/messages/${message.id}`).set(admin).send({ reason: 'erasure' })).status).toBe(204);
    expect((await purged).messageId).toBe(message.id);
  });

  it('announces presence across nodes on the first socket anywhere and after the last one leaves', async () => {
    const { alice, bob, nodeA, nodeB, a, b } = await scene(cluster);
    await send(a, bob, 'partners now');
    await nextEvent(b, 'new_message');
    const presenceAtBob = record<{ userId: number; online: boolean }>(b, 'presence');

    // A second socket of alice on node B, then both leave: one offline, after the grace.
    const a2 = await connectAs(nodeB, alice);
    await letStrayEventsArrive(200);
    expect(presenceAtBob).toEqual([]);
    a.disconnect();
    // Past the grace period (300 ms): an offline announcement would have come by now.
    await letTimePass(600);
    expect(presenceAtBob).toEqual([]);
    const offline = nextEvent<{ userId: number; online: boolean; lastSeenAt: string }>(b, 'presence');
    a2.disconnect();
    expect(await offline).toEqual({ userId: alice, online: false, lastSeenAt: expect.any(String) });

    const online = nextEvent<{ userId: number; online: boolean }>(b, 'presence');
    await connectAs(nodeA, alice);
    expect(await online).toEqual(expect.objectContaining({ userId: alice, online: true }));
    const statuses = await emitAck<{ statuses: { userId: number; online: boolean }[] }>(b, 'get_online_status', { userIds: [alice] });
    expect(statuses.statuses[0]!.online).toBe(true);
  });

  it('keeps a user online who moves from node A to node B within the grace period', async () => {
    const { alice, bob, nodeB, a, b } = await scene(cluster);
    await send(a, bob, 'partners now');
    await nextEvent(b, 'new_message');
    const presenceAtBob = record(b, 'presence');
    a.disconnect();
    await connectAs(nodeB, alice);
    // Past the grace period (300 ms): an offline announcement would have come by now.
    await letTimePass(800);
    expect(presenceAtBob).toEqual([]);
  });

});

describe('two nodes, one send bucket', () => {
  const cluster = useCluster(2, { limits: { rates: { send: { burst: 3, perSecond: 0.01 } } } });

  it('refuses the send past the burst whichever node the sends come through', async () => {
    const { alice, bob, nodeB, a } = await scene(cluster);
    await send(a, bob, 'one');
    await send(a, bob, 'two');
    const third = await nodeB.api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'three' });
    expect(third.status).toBe(201);
    const fourth = await nodeB.api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'four' });
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.code).toBe('RATE_LIMITED');
    const fifth = await emitAck<{ ok: boolean; error: { code: string } }>(a, 'send_message', { receiverId: bob, content: 'five' });
    expect(fifth).toEqual(expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'RATE_LIMITED' }) }));
  });
});
