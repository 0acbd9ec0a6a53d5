import { createCast, resetData } from '../helpers/factories';
import { connectAs, disconnectAll, emitAck, nextEvent, record, settle } from '../helpers/sockets';
import { startTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());
beforeEach(() => resetData(t.chat.sequelize));
afterEach(() => disconnectAll());

test('a message sent over the socket reaches the receiver and not the stranger', async () => {
  const { alice, bob, stranger } = await createCast(t.chat.sequelize);
  const [a, b, s] = await Promise.all([connectAs(t, alice), connectAs(t, bob), connectAs(t, stranger)]);
  const strangerSaw = record(s, 'new_message');
  const received = nextEvent<{ message: { content: string }; conversation: { unreadCount: number } }>(b, 'new_message');
  const ack = await emitAck<{ ok: boolean; message: { id: number } }>(a, 'send_message', { receiverId: bob, content: 'hello' });
  expect(ack.ok).toBe(true);
  const event = await received;
  expect(event.message.content).toBe('hello');
  expect(event.conversation.unreadCount).toBe(1);
  await settle();
  expect(strangerSaw).toEqual([]);
});
