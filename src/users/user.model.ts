import { DataTypes, Model, type ModelAttributes, type ModelStatic, type Sequelize } from 'sequelize';
import type { HostUsersConfig } from '../config';
import { leaveTableToMigrations } from '../db/schema-owner';

export interface UserAttributes {
  id: number;
  name: string | null;
  avatarUrl: string | null;
}

/** A host user as Duet's own model reads it. */
export type ChatUser = Model<UserAttributes>;

export type UserModel = ModelStatic<ChatUser>;

/** Model name in `sequelize.models`: prefixed, so that it never replaces a host's own `User`. */
export const USER_MODEL_NAME = 'ChatUser';

/** Every way Sequelize writes a row, statically and through an instance. */
const STATIC_WRITES = ['create', 'bulkCreate', 'update', 'destroy', 'upsert', 'increment', 'decrement', 'truncate', 'restore', 'findOrCreate', 'findCreateFind'];
const INSTANCE_WRITES = ['save', 'update', 'destroy', 'restore', 'increment', 'decrement'];

const readOnly = () => new Error(`Duet's user model is read-only: the users table belongs to the host (use the host's own model to write)`);

/**
 * The host's user table, read-only to Duet. Its table and column names come from config, so the
 * model is defined per Sequelize instance rather than with decorators. Extra host columns are
 * simply not mapped. Every write through it rejects, whatever options (hooks: false included);
 * sync() and drop() leave the table alone.
 */
export function defineUserModel(sequelize: Sequelize, users: HostUsersConfig): UserModel {
  const attributes: ModelAttributes<ChatUser, UserAttributes> = {
    id: { type: DataTypes.INTEGER, primaryKey: true, field: users.idColumn },
    name: { type: DataTypes.STRING, field: users.nameColumn },
    // Without an avatar column the attribute reads as NULL rather than naming a missing column.
    avatarUrl: users.avatarColumn
      ? { type: DataTypes.STRING, field: users.avatarColumn }
      : { type: DataTypes.VIRTUAL, get: () => null },
  };
  const model = sequelize.define<ChatUser>(USER_MODEL_NAME, attributes, { tableName: users.table, timestamps: false });
  const refuse = {
    value: async () => {
      throw readOnly();
    },
  };
  for (const name of STATIC_WRITES) Object.defineProperty(model, name, refuse);
  for (const name of INSTANCE_WRITES) Object.defineProperty(model.prototype, name, refuse);
  leaveTableToMigrations(model);
  return model;
}
