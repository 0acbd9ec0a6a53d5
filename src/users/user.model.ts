import { DataTypes, Model, type ModelAttributes, type ModelStatic, type Sequelize } from 'sequelize';
import type { HostUsersConfig } from '../config';

export interface UserAttributes {
  id: number;
  name: string | null;
  avatarUrl: string | null;
}

export type UserModel = ModelStatic<Model<UserAttributes>>;

/**
 * The host's user table, read-only to Duet. Its table and column names come from config, so the
 * model is defined per Sequelize instance rather than with decorators. Extra host columns are
 * simply not mapped.
 */
export function defineUserModel(sequelize: Sequelize, users: HostUsersConfig): UserModel {
  const attributes: ModelAttributes<Model<UserAttributes>, UserAttributes> = {
    id: { type: DataTypes.INTEGER, primaryKey: true, field: users.idColumn },
    name: { type: DataTypes.STRING, field: users.nameColumn },
    // Without an avatar column the attribute reads as NULL rather than naming a missing column.
    avatarUrl: users.avatarColumn
      ? { type: DataTypes.STRING, field: users.avatarColumn }
      : { type: DataTypes.VIRTUAL, get: () => null },
  };
  return sequelize.define<Model<UserAttributes>>('User', attributes, {
    tableName: users.table,
    timestamps: false,
  });
}
