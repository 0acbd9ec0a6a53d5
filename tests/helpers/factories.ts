import type { Sequelize } from 'sequelize';
import request from 'supertest';
import type { MessageJson } from '../../src/messages/message.presenter';
import type { Sent } from './contract';
import type { TestApp } from './test-app';
import { bearer } from './test-app';

/** Empties Duet's tables and the users table between tests. */
export async function resetData(sequelize: Sequelize): Promise<void> {
  await sequelize.query('TRUNCATE messages, attachments, conversations, users, audit_log, user_presence, webhook_deliveries RESTART IDENTITY CASCADE');
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

/**
 * A conversation's whole history as the user sees it over REST, oldest first, from any node (an app
 * in the test process or one in a child process). Tests keep conversations under a page of 100.
 */
export async function historyOf(node: Pick<TestApp, 'baseUrl'>, userId: number, conversationId: number): Promise<MessageJson[]> {
  const res = await request(node.baseUrl).get(`/api/chat/conversations/${conversationId}/messages?limit=100`).set(bearer(userId));
  expect(res.status).toBe(200);
  expect(res.body.hasMore).toBe(false);
  return res.body.messages;
}
