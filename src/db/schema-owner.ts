import type { Model, ModelStatic } from 'sequelize';

/**
 * The migrations make and change Duet's tables, and the host owns its users table: a model's
 * sync() and drop() (and so `sequelize.sync({ force: true })` in a host's code) leave them alone.
 */
export function leaveTableToMigrations(model: ModelStatic<Model>): void {
  for (const name of ['sync', 'drop']) Object.defineProperty(model, name, { value: async () => model });
}
