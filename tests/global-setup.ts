import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sequelize } from 'sequelize';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { migrate } from '../src/db/migrator';
import { DEFAULT_HOST_USERS } from '../src/config/host-users';
import { freePort } from './helpers/free-port';

/**
 * One real PostgreSQL for the whole run: DATABASE_URL when set (CI and this machine use the local
 * server's `test` database), otherwise an embedded server in a temporary directory. The schema is
 * rebuilt from the migrations, so the database must be a throwaway one.
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-test-pg-'));
    // Our own throwaway directory: open it to PostgreSQL's user so the cluster stays in it (as root).
    fs.chmodSync(dataDir, 0o755);
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'duet_test', persistent: false });
    (globalThis as { __duetEmbedded?: unknown }).__duetEmbedded = { embedded, dataDir };
    url = embedded.url;
    process.env.DATABASE_URL = url;
  }
  const database = new URL(url).pathname.slice(1);
  if (!/test/i.test(database) && process.env.DUET_TEST_ALLOW_RESET !== '1') {
    throw new Error(`The tests wipe their database; "${database}" does not look like a test database (set DUET_TEST_ALLOW_RESET=1 to insist)`);
  }
  const sequelize = new Sequelize(url, { logging: false });
  try {
    await sequelize.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    await migrate(sequelize, DEFAULT_HOST_USERS);
  } finally {
    await sequelize.close();
  }
}
