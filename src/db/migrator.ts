import path from 'node:path';
import { type QueryInterface, type Sequelize, Sequelize as SequelizeStatic } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { HostUsersConfig } from '../config';
import { PROJECT_ROOT } from '../shared/project-root';

type Kind = 'migrations' | 'seeders';

interface CliMigration {
  up(queryInterface: QueryInterface, sequelize: typeof SequelizeStatic, options: { hostUsers: HostUsersConfig }): Promise<void>;
  down(queryInterface: QueryInterface, sequelize: typeof SequelizeStatic, options: { hostUsers: HostUsersConfig }): Promise<void>;
}

/**
 * Runs the same CommonJS files as sequelize-cli, recording them in the same tables
 * (SequelizeMeta, SequelizeData), so the CLI and the server agree on what has run.
 */
function createUmzug(sequelize: Sequelize, kind: Kind, hostUsers: HostUsersConfig): Umzug<QueryInterface> {
  const table = kind === 'migrations' ? 'SequelizeMeta' : 'SequelizeData';
  const options = { hostUsers };
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: path.join(PROJECT_ROOT, kind) }],
      resolve: ({ name, path: file, context }) => {
        const migration = require(file!) as CliMigration;
        return {
          name,
          up: () => migration.up(context, SequelizeStatic, options),
          down: () => migration.down(context, SequelizeStatic, options),
        };
      },
    },
    context: sequelize.getQueryInterface(),
    // A distinct modelName per storage, or umzug reuses one model and mixes the two tables up.
    storage: new SequelizeStorage({ sequelize, modelName: table, tableName: table }),
    logger: undefined,
  });
}

/** pg_advisory_xact_lock's key for Duet's migrations ('duet' in ASCII). */
const MIGRATIONS_LOCK = 0x64756574;

const LOCK_POLL_MS = 200;

/**
 * Nodes that start together apply the migrations once: each takes the lock in a transaction of its
 * own, held for as long as the migrations take, and the others then find nothing left to do. The
 * others poll for it rather than wait in a statement: a waiting statement holds a snapshot, which a
 * CREATE INDEX CONCURRENTLY in the migrations would wait for in turn (a deadlock).
 */
export async function migrate(sequelize: Sequelize, hostUsers: HostUsersConfig): Promise<string[]> {
  return sequelize.transaction(async (transaction) => {
    const tryLock = async () => {
      const [rows] = await sequelize.query(`SELECT pg_try_advisory_xact_lock(${MIGRATIONS_LOCK}) AS locked`, { transaction });
      return (rows as Array<{ locked: boolean }>)[0]!.locked;
    };
    while (!(await tryLock())) await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    const done = await createUmzug(sequelize, 'migrations', hostUsers).up();
    return done.map((m) => m.name);
  });
}

export async function seed(sequelize: Sequelize, hostUsers: HostUsersConfig): Promise<string[]> {
  const done = await createUmzug(sequelize, 'seeders', hostUsers).up();
  return done.map((m) => m.name);
}
