import type { PresenceJson } from '../../src/presence/presence.service';
import { ISO } from '../helpers/contract';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { letTimePass } from '../helpers/waiting';
import { bearer, useTestApp } from '../helpers/test-app';

/**
 * Privacy between strangers, presence half (API.md, "Privacy between strangers"): presence events,
 * get_online_status answers and typing indicators concern only users who have exchanged a message.
 * Alice and Bob always have; Mallory (`stranger`) is the one who tries to learn about Alice.
 */

const GRACE_MS = 100;
const app = useTestApp({ realtime: { presenceGraceMs: GRACE_MS } });
// Let every grace period run out, so no announcement spills into the next test.
afterEach(() => letTimePass(GRACE_MS * 3));

const open = (userId: number, participantId: number) =>
  app().api().post('/api/chat/conversations').set(bearer(userId)).send({ participantId });

async function statuses(socket: ClientSocket, userIds: number[]): Promise<PresenceJson[]> {
  const ack = await emitAck<{ ok: boolean; statuses: PresenceJson[] }>(socket, 'get_online_status', { userIds });
  expect(ack.ok).toBe(true);
  return ack.statuses;
}

/** Alice and Bob have exchanged a message; the stranger has not written to either. */
async function cast() {
  const ids = await createCast(app().chat.sequelize);
  await sendMessage(app(), ids.alice, ids.bob, 'we are partners');
  return ids;
}

/** Closes the socket and waits until `watcher` hears its user go offline. */
async function goOffline(socket: ClientSocket, watcher: ClientSocket): Promise<PresenceJson> {
  const offline = nextEvent<PresenceJson>(watcher, 'presence', 2000);
  socket.disconnect();
  return offline;
}

describe('strangers learn nothing of each other', () => {
  test('opening conversations with each other makes nobody a presence partner', async () => {
    const { alice, bob, stranger } = await cast();
    expect((await open(stranger, alice)).status).toBe(201);
    expect((await open(alice, stranger)).status).toBe(200);

    const [b, s] = await Promise.all([connectAs(app(), bob), connectAs(app(), stranger)]);
    const strangerHeard = record<PresenceJson>(s, 'presence');
    const bobHears = nextEvent<PresenceJson>(b, 'presence');
    const a = await connectAs(app(), alice);
    // Delivery works: her partner hears Alice come online.
    expect(await bobHears).toEqual({ userId: alice, online: true, lastSeenAt: null });
    const aliceHeard = record<PresenceJson>(a, 'presence');

    // The stranger leaves and comes back; Bob leaves, which Alice must hear.
    s.disconnect();
    // Past the stranger's grace period, so that connecting again is a real arrival.
    await letTimePass(GRACE_MS * 3);
    const s2 = await connectAs(app(), stranger);
    expect(await goOffline(b, a)).toEqual({ userId: bob, online: false, lastSeenAt: expect.stringMatching(ISO) });
    await letStrayEventsArrive();

    expect(aliceHeard.map((e) => e.userId)).toEqual([bob]);
    expect(strangerHeard).toEqual([]);
    // Each asks about the other: online both, yet each sees the other offline and never seen,
    // just as for an id that names nobody.
    expect(await statuses(s2, [alice, 424242])).toEqual([
      { userId: alice, online: false, lastSeenAt: null },
      { userId: 424242, online: false, lastSeenAt: null },
    ]);
    expect(await statuses(a, [stranger, bob, alice])).toEqual([
      { userId: stranger, online: false, lastSeenAt: null },
      { userId: bob, online: false, lastSeenAt: expect.stringMatching(ISO) },
      { userId: alice, online: true, lastSeenAt: null },
    ]);
  });

  test('a user asked about many times, or among unknown ids, gets one answer per id in order', async () => {
    const { alice, bob, stranger } = await cast();
    const [a] = await Promise.all([connectAs(app(), alice), connectAs(app(), bob), connectAs(app(), stranger)]);
    expect(await statuses(a, [bob, stranger, bob, 999_999])).toEqual([
      { userId: bob, online: true, lastSeenAt: null },
      { userId: stranger, online: false, lastSeenAt: null },
      { userId: bob, online: true, lastSeenAt: null },
      { userId: 999_999, online: false, lastSeenAt: null },
    ]);
  });
});

describe('one message makes two users partners, for good', () => {
  test('after a first message each hears the other come and go, and statuses answer', async () => {
    const { alice, stranger } = await cast();
    await sendMessage(app(), stranger, alice, 'hello Alice');

    const a = await connectAs(app(), alice);
    const online = nextEvent<PresenceJson>(a, 'presence');
    const s = await connectAs(app(), stranger);
    expect(await online).toEqual({ userId: stranger, online: true, lastSeenAt: null });
    expect(await statuses(a, [stranger])).toEqual([{ userId: stranger, online: true, lastSeenAt: null }]);
    const { lastSeenAt } = await goOffline(s, a);
    expect(lastSeenAt).toMatch(ISO);
    expect(await statuses(a, [stranger])).toEqual([{ userId: stranger, online: false, lastSeenAt }]);
  });

  test('they stay partners after the message is deleted and then purged', async () => {
    const { alice, stranger } = await cast();
    const admin = await createUser(app().chat.sequelize, 'Ada Admin');
    const { message } = await sendMessage(app(), stranger, alice, 'soon gone');
    expect((await app().api().delete(`/api/chat/messages/${message.id}`).set(bearer(stranger))).status).toBe(204);
    const purged = await app().api().delete(`/api/chat/admin/messages/${message.id}`).set(bearer(admin, { admin: true }));
    expect(purged.status).toBe(204);
    const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n FROM messages WHERE conversation_id = :id', {
      replacements: { id: message.conversationId },
    });
    expect(rows).toEqual([{ n: 0 }]);

    const a = await connectAs(app(), alice);
    const online = nextEvent<PresenceJson>(a, 'presence');
    const s = await connectAs(app(), stranger);
    expect(await online).toEqual({ userId: stranger, online: true, lastSeenAt: null });
    const back = nextEvent<PresenceJson>(s, 'presence');
    a.disconnect();
    expect(await back).toEqual({ userId: alice, online: false, lastSeenAt: expect.stringMatching(ISO) });
    expect(await statuses(s, [alice])).toEqual([{ userId: alice, online: false, lastSeenAt: expect.stringMatching(ISO) }]);
  });
});

describe('typing tells only partners', () => {
  test('typing in a conversation still empty is accepted and heard by nobody, until it holds a message', async () => {
    const { alice, stranger } = await cast();
    const conversationId = (await open(alice, stranger)).body.conversation.id as number;
    expect((await open(stranger, alice)).status).toBe(200);
    const [a, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), stranger)]);
    const strangerHeard = record<{ isTyping: boolean }>(s, 'user_typing');

    expect(await emitAck(a, 'typing', { conversationId })).toEqual({ ok: true });
    expect(await emitAck(a, 'stop_typing', { conversationId })).toEqual({ ok: true });
    expect(await emitAck(a, 'typing', { conversationId })).toEqual({ ok: true });

    // The first message ends the typing nobody heard, and makes the next one heard.
    const delivered = nextEvent(s, 'new_message');
    await sendMessage(app(), alice, stranger, 'first words');
    await delivered;
    const heard = nextEvent(s, 'user_typing');
    expect(await emitAck(a, 'typing', { conversationId })).toEqual({ ok: true });
    expect(await heard).toEqual({ conversationId, userId: alice, isTyping: true });
    expect(strangerHeard).toEqual([{ isTyping: true, conversationId, userId: alice }]);
  });
});
