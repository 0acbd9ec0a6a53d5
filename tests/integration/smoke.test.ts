import { createCast, resetData, sendMessage } from '../helpers/factories';
import { bearer, startTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());
beforeEach(() => resetData(t.chat.sequelize));

test('two users hold a conversation over REST', async () => {
  const { alice, bob } = await createCast(t.chat.sequelize);
  const sent = await sendMessage(t, alice, bob, 'hello');
  expect(sent.message).toMatchObject({ senderId: alice, receiverId: bob, content: 'hello', isRead: false });
  const list = await t.api().get('/api/chat/conversations').set(bearer(bob));
  expect(list.status).toBe(200);
  expect(list.body.conversations).toHaveLength(1);
  expect(list.body.conversations[0]).toMatchObject({ unreadCount: 1, participant: { id: alice, name: 'Alice' } });
});
