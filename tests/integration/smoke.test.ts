import { createCast, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';

const app = useTestApp();

test('two users hold a conversation over REST', async () => {
  const { alice, bob } = await createCast(app().chat.sequelize);
  const sent = await sendMessage(app(), alice, bob, 'hello');
  expect(sent.message).toMatchObject({ senderId: alice, receiverId: bob, content: 'hello', isRead: false });
  const list = await app().api().get('/api/chat/conversations').set(bearer(bob));
  expect(list.status).toBe(200);
  expect(list.body.conversations).toHaveLength(1);
  expect(list.body.conversations[0]).toMatchObject({ unreadCount: 1, participant: { id: alice, name: 'Alice' } });
});
