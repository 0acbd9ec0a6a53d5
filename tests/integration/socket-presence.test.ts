import type { Sequelize } from 'sequelize';
import type { PresenceJson } from '../../src/presence/presence.service';
import { ISO } from '../helpers/contract';
import { createCast, createUser, resetData, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, disconnectAll, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { eventually, letTimePass } from '../helpers/waiting';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { checkNoUnhandledRejections, closeExtraClients, comeOnline, goOffline, useSocketApp } from '../helpers/socket-robustness';

/**
 * Presence across several sockets, and lastSeenAt across a restart.
 * Real PostgreSQL, a real Socket.IO server on port 0 and socket.io-client; nothing is mocked.
 */

checkNoUnhandledRejections();

describe('presence', () => {
  const GRACE_MS = 100;
  const app = useSocketApp({ realtime: { presenceGraceMs: GRACE_MS } });
  // Let every grace period run out, so no announcement spills into the next test.
  afterEach(() => letTimePass(GRACE_MS * 3));

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
    await letStrayEventsArrive();
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
    // Every grace period started above runs out, so the connects below are fresh arrivals.
    await letTimePass(GRACE_MS * 2);

    const seen = record<PresenceJson>(a, 'presence');
    const strangerSaw = record<PresenceJson>(s, 'presence');
    await Promise.all([bob, ...others].map((userId) => connectAs(app(), userId)));
    await eventually(() => seen.length >= others.length + 1, 'every arrival announced');
    await letStrayEventsArrive();

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
    // Past the grace period: an offline announcement would have come by now.
    await letTimePass(GRACE_MS * 4);
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
    await letStrayEventsArrive();
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
    // Past the grace period: an offline announcement would have come by now.
    await letTimePass(GRACE_MS * 4);
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
