import { DEFAULT_HOST_USERS } from '../../src/config/host-users';
import { createCast, sendMessage } from '../helpers/factories';
import { useTestApp } from '../helpers/test-app';

/**
 * The migrations define the schema; every model registered on Duet's Sequelize must mirror it,
 * column for column, with the same type and nullability, so that a migration that drifts from a
 * model (or a model from the migrations) fails here.
 */
describe('models mirror the migrated schema', () => {
  const app = useTestApp();

  /** How a model attribute's type is stored by PostgreSQL (information_schema's udt_name). */
  const UDT: Record<string, string> = { INTEGER: 'int4', BIGINT: 'int8', STRING: 'varchar', TEXT: 'text', BOOLEAN: 'bool', DATE: 'timestamptz', JSONB: 'jsonb' };
  /** Columns no model maps: derived by PostgreSQL itself. */
  const DERIVED: Record<string, string[]> = { messages: ['search_vector'] };
  /**
   * The host's users table is the host's: Duet's model names only the columns it reads, with their
   * kind of type, whatever lengths and nullability the host declares.
   */
  const hostTable = DEFAULT_HOST_USERS.table;

  interface ColumnInfo {
    column_name: string;
    udt_name: string;
    is_nullable: 'YES' | 'NO';
    character_maximum_length: number | null;
    datetime_precision: number | null;
  }

  test('every model: its attributes are the table\'s columns, with their types and nullability', async () => {
    const { sequelize } = app().chat;
    const models = Object.values(sequelize.models);
    expect(models.map((model) => model.getTableName()).sort()).toEqual(['attachments', 'audit_log', 'conversations', 'messages', 'users']);
    for (const model of models) {
      const table = model.getTableName() as string;
      const [rows] = await sequelize.query(
        `SELECT column_name, udt_name, is_nullable, character_maximum_length, datetime_precision
           FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
        { bind: [table] },
      );
      const columns = new Map((rows as ColumnInfo[]).map((row) => [row.column_name, row]));
      const attributes = Object.values(model.getAttributes());
      const mapped = attributes.map((attribute) => attribute.field ?? '');
      const host = table === hostTable;
      if (!host) {
        expect({ table, unmapped: [...columns.keys()].filter((column) => !mapped.includes(column)).sort() }).toEqual({ table, unmapped: DERIVED[table] ?? [] });
      }
      for (const attribute of attributes) {
        const column = columns.get(attribute.field!);
        const type = attribute.type as unknown as { key: string; options?: { length?: number } };
        const model = {
          column: `${table}.${attribute.field}`,
          udt: UDT[type.key] ?? type.key,
          nullable: host ? undefined : attribute.allowNull !== false && !attribute.primaryKey,
          ...(type.key === 'STRING' && !host && { length: type.options?.length ?? 255 }),
          ...(type.key === 'DATE' && type.options?.length !== undefined && { precision: Number(type.options.length) }),
        };
        const stored = column && {
          column: `${table}.${attribute.field}`,
          udt: column.udt_name,
          nullable: host ? undefined : column.is_nullable === 'YES',
          ...(type.key === 'STRING' && !host && { length: column.character_maximum_length }),
          ...(type.key === 'DATE' && type.options?.length !== undefined && { precision: column.datetime_precision }),
        };
        expect(stored).toEqual(model);
      }
    }
  });

  test('a message read through the model matches the API and is hidden once soft-deleted', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const { message } = await sendMessage(app(), alice, bob, 'through the model');
    const { Message, Conversation } = app().chat.models;
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
