import fs from 'node:fs';
import path from 'node:path';
import { Sequelize } from 'sequelize';
import { DEFAULT_HOST_USERS } from '../../src/config/host-users';
import { migrate } from '../../src/db/migrator';

/**
 * Nodes that start together apply the migrations once (API.md, "Clarifications": an advisory lock
 * around them). Two migrators race on an empty database of the test's own: without the lock both
 * would create the same tables and one would fail.
 */

const serverUrl = new URL(process.env.DATABASE_URL!);
const database = `duet_migration_lock_test_${process.pid}`;
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();
const admin = new Sequelize(serverUrl.toString(), { logging: false });

beforeAll(() => admin.query(`CREATE DATABASE ${database}`));
afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.close();
});

it('applies every migration once when two nodes migrate at the same time', async () => {
  const nodes = [new Sequelize(databaseUrl, { logging: false }), new Sequelize(databaseUrl, { logging: false })];
  try {
    const [first, second] = await Promise.all(nodes.map((sequelize) => migrate(sequelize, DEFAULT_HOST_USERS)));
    const all = fs.readdirSync(path.join(__dirname, '../../migrations')).filter((file) => file.endsWith('.js')).sort();
    // One node applied them all; the other waited for the lock and found nothing left to do.
    expect([...first!, ...second!].sort()).toEqual(all);
    expect([first!.length, second!.length].sort()).toEqual([0, all.length]);
    const [rows] = await nodes[0]!.query('SELECT name FROM "SequelizeMeta" ORDER BY name');
    expect((rows as { name: string }[]).map((row) => row.name)).toEqual(all);
  } finally {
    await Promise.all(nodes.map((sequelize) => sequelize.close()));
  }
});
