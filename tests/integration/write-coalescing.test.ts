import { Socket as NetSocket } from 'node:net';
import { io as connectClient } from 'socket.io-client';
import { userRoom } from '../../src/realtime/rooms';
import { tcpSocketOf } from '../../src/realtime/socket-io-internals';
import { coalesceWrites } from '../../src/realtime/write-coalescing';
import { createCast } from '../helpers/factories';
import { connectAs, disconnectAll, emitAck, nextEvent } from '../helpers/sockets';
import { eventually } from '../helpers/waiting';
import { tokenFor, useTestApp } from '../helpers/test-app';

/**
 * A send's frames to one socket leave in one TCP write (src/realtime/write-coalescing.ts). That
 * reaches under engine.io and ws; these tests fail if an upgrade moves what it relies on.
 */
describe('write coalescing', () => {
  const app = useTestApp();
  afterEach(disconnectAll);

  const serverSocketOf = (userId: number) => {
    const [id] = app().realtime.io.sockets.adapter.rooms.get(userRoom(userId)) ?? [];
    return app().realtime.io.sockets.sockets.get(id!);
  };

  test('a WebSocket connection exposes its TCP socket, which is corked until the next turn of the event loop', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    await connectAs(app(), alice);
    const tcp = tcpSocketOf(serverSocketOf(alice));
    expect(tcp).toBeInstanceOf(NetSocket);

    coalesceWrites(app().realtime.io, [userRoom(alice)]);
    expect(tcp!.writableCorked).toBe(1);
    coalesceWrites(app().realtime.io, [userRoom(alice)]); // already held: not corked twice
    expect(tcp!.writableCorked).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(tcp!.writableCorked).toBe(0);
  });

  test('a long-polling connection has no TCP socket to cork and still gets every event', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const polling = connectClient(app().baseUrl, { auth: { token: tokenFor(bob) }, transports: ['polling'], forceNew: true, reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => polling.once('connect', resolve).once('connect_error', reject));
      expect(tcpSocketOf(serverSocketOf(bob))).toBeUndefined();
      const sender = await connectAs(app(), alice);
      const arriving = nextEvent<{ message: { content: string } }>(polling, 'new_message');
      expect(await emitAck(sender, 'send_message', { receiverId: bob, content: 'over polling' })).toMatchObject({ ok: true });
      expect((await arriving).message.content).toBe('over polling');
    } finally {
      polling.disconnect();
    }
  });

  test('with the writes held back, the sender still gets its ack and new_message, and the receiver both events, in order', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const [sender, receiver] = [await connectAs(app(), alice), await connectAs(app(), bob)];
    const seenBySender: string[] = [];
    const seenByReceiver: string[] = [];
    sender.onAny((event: string) => seenBySender.push(event));
    receiver.onAny((event: string) => seenByReceiver.push(event));
    const acks = await Promise.all(
      [1, 2, 3].map((i) => emitAck(sender, 'send_message', { receiverId: bob, content: `m${i}`, clientMessageId: `c${i}` })),
    );
    expect(acks.every((a) => a.ok === true)).toBe(true);
    await eventually(() => seenByReceiver.length >= 6 && seenBySender.length >= 3, 'every frame of the three sends');
    expect(seenBySender.filter((e) => e === 'new_message')).toHaveLength(3);
    expect(seenByReceiver).toEqual(['new_message', 'message_notification', 'new_message', 'message_notification', 'new_message', 'message_notification']);
  });
});
