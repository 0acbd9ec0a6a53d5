import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import { createChat } from '../../src/chat';
import { createLogger } from '../../src/shared/logger';
import type { Sent } from '../helpers/contract';
import { createCast } from '../helpers/factories';
import { connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { TEST_JWT_SECRET, tokenFor, useTestApp } from '../helpers/test-app';

const app = useTestApp();

test('a message sent over the socket reaches the receiver and not the stranger', async () => {
  const { alice, bob, stranger } = await createCast(app().chat.sequelize);
  const [a, b, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), bob), connectAs(app(), stranger)]);
  const strangerSaw = record(s, 'new_message');
  const received = nextEvent<Sent>(b, 'new_message');
  const ack = await emitAck<{ ok: boolean; message: { id: number } }>(a, 'send_message', { receiverId: bob, content: 'hello' });
  expect(ack.ok).toBe(true);
  const event = await received;
  expect(event.message.content).toBe('hello');
  expect(event.conversation.unreadCount).toBe(1);
  await letStrayEventsArrive();
  expect(strangerSaw).toEqual([]);
});

test("a host can hand Duet its own Socket.IO server", async () => {
  const { alice, bob } = await createCast(app().chat.sequelize);
  const server = http.createServer();
  const io = new Server(server, { connectionStateRecovery: { skipMiddlewares: false } });
  const chat = await createChat({
    databaseUrl: process.env.DATABASE_URL!,
    auth: { secret: TEST_JWT_SECRET },
    logger: createLogger('error', true),
    migrate: false,
    processMetrics: false,
  });
  const realtime = chat.attach(io);
  expect(realtime.io).toBe(io);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const connect = (userId: number) => connectClient(url, { auth: { token: tokenFor(userId) }, transports: ['websocket'], forceNew: true });
  const [a, b] = [connect(alice), connect(bob)];
  try {
    const received = nextEvent<Sent>(b, 'new_message');
    await new Promise<void>((resolve) => b.on('connect', () => resolve()));
    const ack = await a.timeout(5000).emitWithAck('send_message', { receiverId: bob, content: 'via the host io' });
    expect(ack.ok).toBe(true);
    expect((await received).message.content).toBe('via the host io');
  } finally {
    a.disconnect();
    b.disconnect();
    await chat.close();
    io.close();
  }
});
