import { Conversation } from '../../src/conversations/conversation.model';
import { Message } from '../../src/messages/message.model';
import { createCast, sendMessage } from '../helpers/factories';
import { useTestApp } from '../helpers/test-app';

/** The migrations define the schema; the models must mirror it column for column. */
describe('models mirror the migrated schema', () => {
  const app = useTestApp();

  test.each([
    ['conversations', () => Conversation.getAttributes()],
    ['messages', () => Message.getAttributes()],
  ] as const)('%s: every model attribute is a column', async (table, attributesOf) => {
    const columns = Object.keys(await app().chat.sequelize.getQueryInterface().describeTable(table));
    const fields = Object.values(attributesOf()).map((a) => a.field ?? '');
    for (const field of fields) expect(columns).toContain(field);
    // The only columns the models leave out are derived ones (the search vector).
    expect(columns.filter((c) => !fields.includes(c))).toEqual(table === 'messages' ? ['search_vector'] : []);
  });

  test('a message read through the model matches the API and is hidden once soft-deleted', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { message } = await sendMessage(app(), alice, bob, 'through the model');
    const row = await Message.findByPk(message.id);
    expect(row).toMatchObject({ senderId: alice, receiverId: bob, content: 'through the model', isRead: false });
    expect(row!.createdAt.toISOString()).toBe(message.createdAt);
    const conversation = await Conversation.findByPk(message.conversationId);
    expect(conversation).toMatchObject({ participant1Id: Math.min(alice, bob), participant1Unread: alice < bob ? 0 : 1 });

    await app().chat.services.messages.delete(alice, message.id);
    expect(await Message.findByPk(message.id)).toBeNull();
    const deleted = await Message.findByPk(message.id, { paranoid: false });
    expect(deleted?.deletedBy).toBe(alice);
  });
});
