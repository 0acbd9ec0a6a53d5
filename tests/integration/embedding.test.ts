import express from 'express';
import { Sequelize } from 'sequelize-typescript';
import request from 'supertest';
import { createChat, type Chat } from '../../src';
import { createLogger } from '../../src/shared/logger';
import { bearer, TEST_JWT_SECRET } from '../helpers/test-app';

/**
 * A host with its own Express app, its own Sequelize instance and its own user table with other
 * names and extra columns, in a database of its own.
 */
describe('embedded in a host app', () => {
  const databaseName = `duet_host_test_${process.pid}`;
  const adminUrl = new URL(process.env.DATABASE_URL!);
  const hostUrl = new URL(process.env.DATABASE_URL!);
  hostUrl.pathname = `/${databaseName}`;
  let admin: Sequelize;
  let hostDb: Sequelize;
  let chat: Chat;
  let host: express.Express;
  let ids: { ann: number; ben: number };

  beforeAll(async () => {
    admin = new Sequelize(adminUrl.toString(), { logging: false });
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName}`);
    await admin.query(`CREATE DATABASE ${databaseName}`);
    hostDb = new Sequelize(hostUrl.toString(), { logging: false });
    await hostDb.query(`CREATE TABLE accounts (
      account_id SERIAL PRIMARY KEY, display_name TEXT NOT NULL, email TEXT UNIQUE, password_hash TEXT, created TIMESTAMPTZ DEFAULT now())`);
    const [rows] = await hostDb.query(
      "INSERT INTO accounts (display_name, email) VALUES ('Ann', 'ann@host'), ('Ben', 'ben@host') RETURNING account_id",
    );
    const [ann, ben] = (rows as { account_id: number }[]).map((r) => r.account_id);
    ids = { ann: ann!, ben: ben! };

    chat = await createChat({
      sequelize: hostDb,
      auth: { secret: TEST_JWT_SECRET },
      users: { table: 'accounts', idColumn: 'account_id', nameColumn: 'display_name', avatarColumn: '' },
      logger: createLogger('error', true),
      processMetrics: false,
    });
    host = express();
    host.get('/host/ping', (_req, res) => {
      res.send('pong');
    });
    host.use('/api/chat', chat.router);
  });

  afterAll(async () => {
    await chat.close();
    await hostDb.close();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName}`);
    await admin.close();
  });

  test('migrations leave the host table alone and create no users table', async () => {
    const [tables] = await hostDb.query(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    const names = (tables as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['accounts', 'conversations', 'messages']));
    expect(names).not.toContain('users');
  });

  test("host users chat, named from the host's columns", async () => {
    const sent = await request(host).post('/api/chat/send').set(bearer(ids.ann)).send({ receiverId: ids.ben, content: 'hi Ben' });
    expect(sent.status).toBe(201);
    expect(sent.body.conversation.participant).toEqual({ id: ids.ben, name: 'Ben', avatarUrl: null });
    const list = await request(host).get('/api/chat/conversations').set(bearer(ids.ben));
    expect(list.body.conversations[0]).toMatchObject({ participant: { id: ids.ann, name: 'Ann' }, unreadCount: 1 });
  });

  test('a token for an id that is not in the host table is refused', async () => {
    const res = await request(host).get('/api/chat/unread-count').set(bearer(999_999));
    expect(res.status).toBe(401);
  });

  test("the host's own routes still work and the chat router leaves them alone", async () => {
    expect((await request(host).get('/host/ping')).text).toBe('pong');
  });

  test('close() leaves the host its database connection', async () => {
    const [rows] = await hostDb.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });
});
