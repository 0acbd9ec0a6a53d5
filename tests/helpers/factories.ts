import type { Sequelize } from 'sequelize';
import type { Sent } from './contract';
import type { TestApp } from './test-app';
import { bearer } from './test-app';

/** Empties Duet's tables and the users table between tests. */
export async function resetData(sequelize: Sequelize): Promise<void> {
  await sequelize.query('TRUNCATE messages, attachments, conversations, users, audit_log, user_presence RESTART IDENTITY CASCADE');
}

/** Inserts a user into the host's table and returns its id. */
export async function createUser(sequelize: Sequelize, name = 'User'): Promise<number> {
  const [rows] = await sequelize.query('INSERT INTO users (name) VALUES (:name) RETURNING id', { replacements: { name } });
  return Number((rows as { id: number }[])[0]!.id);
}

/** Two participants and a stranger: the cast of every scenario. */
export async function createCast(sequelize: Sequelize): Promise<{ alice: number; bob: number; stranger: number }> {
  return {
    alice: await createUser(sequelize, 'Alice'),
    bob: await createUser(sequelize, 'Bob'),
    stranger: await createUser(sequelize, 'Mallory'),
  };
}

/** Sends through the REST API and returns the response body (expects success). */
export async function sendMessage(
  t: TestApp,
  from: number,
  to: number,
  content: string,
  extra: Record<string, unknown> = {},
): Promise<Sent> {
  const res = await t.api().post('/api/chat/send').set(bearer(from)).send({ receiverId: to, content, ...extra });
  if (res.status !== 201 && res.status !== 200) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
