import type { MessageJson } from '../../src/messages/message.presenter';
import type { Sent } from '../helpers/contract';
import { createCast, historyOf, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { eventually } from '../helpers/waiting';
import { bearer, tokenFor } from '../helpers/test-app';
import { type AckJson, checkNoUnhandledRejections, comeOnline, type ConnectError, dropTransport, reconnectingClient, serverSawLeave, useSocketApp, userSocketCount } from '../helpers/socket-robustness';

/**
 * Lossless catch-up after a dropped connection, and the bounded recovery buffer.
 * Real PostgreSQL, a real Socket.IO server on port 0 and socket.io-client; nothing is mocked.
 */

checkNoUnhandledRejections();

describe('reconnecting after a dropped connection', () => {
  const app = useSocketApp();

  /** Waits until `seen` holds a message with this id. */
  const until = (seen: Sent[], id: number) => eventually(() => seen.some((e) => e.message.id === id), `message ${id}`);

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
    const held = new Map<number, MessageJson>((await historyOf(app(), bob, conversationId)).map((m) => [m.id, m]));
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
    await letStrayEventsArrive();

    const replayed = seen.slice(droppedAt).map((e) => e.message);
    // Each missed event arrives once, in order.
    expect(replayed.map((m) => m.id)).toEqual(awayIds);
    const caughtUp = await catchUp(bob, conversationId, N);
    expect(caughtUp.map((m) => m.id)).toEqual(awayIds);

    const merged = new Map(held);
    for (const m of [...caughtUp, ...replayed]) merged.set(m.id, m);
    const mergedIds = [...merged.keys()].sort((x, y) => x - y);
    const server = await historyOf(app(), alice, conversationId);
    expect(mergedIds).toEqual(server.map((m) => m.id));
    expect(new Set(server.map((m) => m.id)).size).toBe(server.length);
    expect(server.map((m) => m.content)).toEqual(['before 1', 'before 2', 'away 1 (REST)', 'away 2 (socket)', 'away 3 (REST)', 'away 4 (socket)']);

    // The recovered socket is a full member again: it still gets live messages, once each.
    const next = await sendMessage(app(), alice, bob, 'after');
    await until(seen, next.message.id);
    await letStrayEventsArrive();
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
    await letStrayEventsArrive();

    const merged = new Map<number, MessageJson>([[firstSent.message.id, firstSent.message]]);
    for (const m of [...(await catchUp(bob, conversationId, N)), ...seen.map((e) => e.message)]) merged.set(m.id, m);
    expect([...merged.keys()].sort((x, y) => x - y)).toEqual([N, ...awayIds]);
    expect([...merged.keys()].sort((x, y) => x - y)).toEqual((await historyOf(app(), alice, conversationId)).map((m) => m.id));
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
    await letStrayEventsArrive();
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
    await letStrayEventsArrive();
    expect(JSON.stringify(packets)).not.toMatch(/secret/);
    expect(seen.map((e) => e.message.content)).toEqual(['before', 'for the stranger']);
  });
});
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
    await letStrayEventsArrive();
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
