import { DataTypes, Op } from 'sequelize';
import { Sequelize } from 'sequelize';
import { createChat } from '../../src/chat';
import { createLogger } from '../../src/shared/logger';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { bearer, TEST_JWT_SECRET, useTestApp } from '../helpers/test-app';

/**
 * chat.models as a host uses them (issue 15, README "Reading chat data with Sequelize"): typical
 * queries with the associations to the host's users, and the guarantees around them.
 */
describe('the data API: chat.models', () => {
  const app = useTestApp();

  async function scene() {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const carol = await createUser(app().chat.sequelize, 'Carol');
    await sendMessage(app(), bob, alice, 'hi alice');
    const { message: fromCarol } = await sendMessage(app(), carol, alice, 'hello from carol');
    const { message: latest } = await sendMessage(app(), alice, bob, 'hi bob');
    await sendMessage(app(), stranger, carol, 'not alice');
    return { alice, bob, carol, stranger, fromCarol, latest };
  }

  test("a user's conversations, newest activity first, with the other participant and the last message", async () => {
    const { alice, latest } = await scene();
    const { Conversation } = app().chat.models;
    const conversations = await Conversation.findAll({
      where: { [Op.or]: [{ participant1Id: alice }, { participant2Id: alice }] },
      include: ['participant1', 'participant2', 'lastMessage'],
      order: [['lastActivityAt', 'DESC']],
    });
    expect(
      conversations.map((c) => ({ with: c.otherParticipant(alice)?.get('name'), last: c.lastMessage?.content, unread: c.unreadFor(alice) })),
    ).toEqual([
      { with: 'Bob', last: 'hi bob', unread: 1 },
      { with: 'Carol', last: 'hello from carol', unread: 1 },
    ]);
    expect(Number(conversations[0]!.lastMessage!.id)).toBe(latest.id);
  });

  test("a conversation's messages with their senders; deleted ones only with paranoid: false; counting a user's messages", async () => {
    const { alice, bob, fromCarol } = await scene();
    const { Message } = app().chat.models;
    const first = await Message.findOne({ where: { senderId: bob } });
    await app().chat.services.messages.delete(alice, Number((await Message.findOne({ where: { senderId: alice } }))!.id));

    const history = await Message.findAll({ where: { conversationId: first!.conversationId }, include: ['sender'], order: [['id', 'ASC']] });
    expect(history.map((m) => `${m.sender?.get('name')}: ${m.content}`)).toEqual(['Bob: hi alice']);

    const deleted = await Message.findAll({ paranoid: false, where: { deletedAt: { [Op.ne]: null } }, include: ['sender', 'conversation'] });
    expect(deleted.map((m) => ({ content: m.content, by: m.deletedBy, sender: m.sender?.get('name'), pair: m.conversation?.isParticipant(bob) }))).toEqual([
      { content: 'hi bob', by: alice, sender: 'Alice', pair: true },
    ]);

    expect(await Message.count({ where: { senderId: alice } })).toBe(0);
    expect(await Message.count({ where: { senderId: alice }, paranoid: false })).toBe(1);
    expect(await Message.count({ where: { receiverId: alice } })).toBe(2);
    const withConversation = await Message.findByPk(fromCarol.id, { include: [{ association: 'conversation', include: ['participant1', 'participant2'] }] });
    expect(withConversation!.conversation!.otherParticipant(alice)?.get('name')).toBe('Carol');
  });

  test('attachments and audit entries are models too, associated with their users and messages', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const upload = await app()
      .api()
      .post('/api/chat/attachments')
      .set(bearer(alice))
      .attach('file', Buffer.from('notes'), { filename: 'notes.txt', contentType: 'text/plain' });
    expect(upload.status).toBe(201);
    const { message } = await sendMessage(app(), alice, bob, 'see attached', { attachmentId: upload.body.attachment.id });
    await app().chat.services.messages.delete(alice, message.id);

    const { Attachment, AuditEntry } = app().chat.models;
    const attachment = await Attachment.findByPk(upload.body.attachment.id, { include: ['uploader', { association: 'message', paranoid: false }] });
    expect({ name: attachment!.name, uploader: attachment!.uploader?.get('name'), message: Number(attachment!.message?.id) }).toEqual({
      name: 'notes.txt',
      uploader: 'Alice',
      message: message.id,
    });
    const entries = await AuditEntry.findAll({ include: ['actor', { association: 'message', paranoid: false }] });
    expect(entries.map((e) => ({ action: e.action, actor: e.actor?.get('name'), content: e.message?.content }))).toEqual([
      { action: 'message.deleted', actor: 'Alice', content: 'see attached' },
    ]);
  });

  test("Duet's user model is read-only: every write rejects, and sync() leaves the tables alone", async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const { User, Message } = app().chat.models;
    const readOnly = /read-only/;
    await expect(User.create({ name: 'Eve' })).rejects.toThrow(readOnly);
    await expect(User.bulkCreate([{ name: 'Eve' }])).rejects.toThrow(readOnly);
    await expect(User.update({ name: 'Eve' }, { where: { id: alice } })).rejects.toThrow(readOnly);
    await expect(User.destroy({ where: { id: alice }, hooks: false })).rejects.toThrow(readOnly);
    await expect(User.upsert({ id: alice, name: 'Eve' })).rejects.toThrow(readOnly);
    await expect(User.increment('id', { where: { id: alice } })).rejects.toThrow(readOnly);
    await expect(User.truncate()).rejects.toThrow(readOnly);
    const user = (await User.findByPk(alice))!;
    user.set('name', 'Eve');
    await expect(user.save()).rejects.toThrow(readOnly);
    await expect(user.save({ hooks: false })).rejects.toThrow(readOnly);
    await expect(user.destroy()).rejects.toThrow(readOnly);
    expect((await User.findByPk(alice))!.get('name')).toBe('Alice');

    await sendMessage(app(), alice, (await createCast(app().chat.sequelize)).bob, 'kept');
    await User.sync({ force: true });
    await Message.sync({ force: true });
    await User.drop();
    await app().chat.sequelize.sync({ force: true });
    expect(await User.count()).toBe(6);
    expect(await Message.count()).toBe(1);
  });

  test('two chats in one process each query their own Sequelize', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await sendMessage(app(), alice, bob, 'one');
    const other = await createChat({ databaseUrl: process.env.DATABASE_URL!, auth: { secret: TEST_JWT_SECRET }, migrate: false, logger: createLogger('error', true), processMetrics: false });
    expect(other.models.Message).not.toBe(app().chat.models.Message);
    expect(await other.models.Message.count()).toBe(1);
    await other.close();
    // The first chat's models are still bound to its own, open pool.
    expect(await app().chat.models.Message.count()).toBe(1);
  });
});

describe("the data API with the host's own user model", () => {
  let host: Sequelize;
  beforeAll(() => {
    host = new Sequelize(process.env.DATABASE_URL!, { logging: false });
  });
  afterAll(() => host.close());

  test("associations use the host's model, which stays writable and untouched, and a host's own Message model is left alone", async () => {
    const HostUser = host.define('User', { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, name: DataTypes.STRING }, { tableName: 'users', timestamps: false });
    const HostMessage = host.define('Message', { body: DataTypes.TEXT }, { tableName: 'host_messages' });
    const chat = await createChat({ sequelize: host, userModel: HostUser, auth: { secret: TEST_JWT_SECRET }, migrate: false, logger: createLogger('error', true), processMetrics: false });
    try {
      await host.query('TRUNCATE messages, conversations, users, audit_log RESTART IDENTITY CASCADE');
      const [alice, bob] = [await HostUser.create({ name: 'Alice' }), await HostUser.create({ name: 'Bob' })];
      await chat.services.messages.send({ senderId: alice.get('id') as number, receiverId: bob.get('id') as number, content: 'from the host' });
      const message = await chat.models.Message.findOne({ include: ['sender', 'receiver'] });
      expect(message!.sender).toBeInstanceOf(HostUser);
      expect([message!.sender!.get('name'), message!.receiver!.get('name')]).toEqual(['Alice', 'Bob']);
      expect(Object.keys(HostUser.associations)).toEqual([]);
      expect(host.models.Message).toBe(HostMessage);
      expect(host.models.User).toBe(HostUser);
    } finally {
      await chat.close();
    }
  });

  test("a host model of another table than the configured one is refused at start", async () => {
    const Person = host.define('Person', { id: { type: DataTypes.INTEGER, primaryKey: true } }, { tableName: 'people', timestamps: false });
    await expect(createChat({ sequelize: host, userModel: Person, auth: { secret: TEST_JWT_SECRET }, migrate: false, logger: createLogger('error', true), processMetrics: false })).rejects.toThrow(
      /userModel maps the table "people", but users are read from "users"/,
    );
  });
});
