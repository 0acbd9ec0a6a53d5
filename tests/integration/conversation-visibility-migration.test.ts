import { Sequelize } from 'sequelize';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';

// The CommonJS migration, as the server's umzug and sequelize-cli run it.
const migration = require('../../migrations/20261122000008-conversation-visibility.js') as {
  up(queryInterface: unknown, sequelize: typeof Sequelize): Promise<void>;
  down(queryInterface: unknown, sequelize: typeof Sequelize): Promise<void>;
};

/**
 * Migration 8 on a database that already holds conversations: a conversation with any message row,
 * deleted or not, or one whose messages were purged (only the audit log remembers them), has held
 * a message; an empty one has not, and stays listed for both (who created it was never recorded).
 */
describe('migration 8 backfills existing conversations', () => {
  const app = useTestApp();

  test('held_message from message rows and the audit log; opened by both; new rows default to never held', async () => {
    const sequelize = app().chat.sequelize;
    const { alice, bob, stranger } = await createCast(sequelize);
    const [carol, dave] = [await createUser(sequelize, 'Carol'), await createUser(sequelize, 'Dave')];
    const admin = { userId: await createUser(sequelize, 'Ada Admin'), isAdmin: true };

    const withMessage = (await sendMessage(app(), alice, bob, 'kept')).conversation.id;
    const deleted = await sendMessage(app(), alice, carol, 'deleted');
    await app().chat.services.messages.delete(alice, deleted.message.id);
    const purged = await sendMessage(app(), alice, dave, 'purged');
    await app().chat.services.admin.purge(admin, purged.message.id);
    const empty = (await app().api().post('/api/chat/conversations').set(bearer(alice)).send({ participantId: stranger })).body.conversation
      .id as number;

    const queryInterface = sequelize.getQueryInterface();
    await migration.down(queryInterface, Sequelize);
    await migration.up(queryInterface, Sequelize);

    const [rows] = await sequelize.query(
      'SELECT id, held_message, participant_1_opened, participant_2_opened FROM conversations ORDER BY id',
    );
    expect(rows).toEqual([
      { id: withMessage, held_message: true, participant_1_opened: true, participant_2_opened: true },
      { id: deleted.conversation.id, held_message: true, participant_1_opened: true, participant_2_opened: true },
      { id: purged.conversation.id, held_message: true, participant_1_opened: true, participant_2_opened: true },
      { id: empty, held_message: false, participant_1_opened: true, participant_2_opened: true },
    ]);
    const [defaults] = await sequelize.query(
      `SELECT column_name, column_default FROM information_schema.columns
        WHERE table_name = 'conversations' AND column_name IN ('held_message', 'participant_1_opened', 'participant_2_opened')
        ORDER BY column_name`,
    );
    expect(defaults).toEqual([
      { column_name: 'held_message', column_default: 'false' },
      { column_name: 'participant_1_opened', column_default: 'true' },
      { column_name: 'participant_2_opened', column_default: 'true' },
    ]);
  });
});
