import { createCast, createUser, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';

const app = useTestApp();

const search = (userId: number, query: Record<string, string | number>) =>
  app().api().get('/api/chat/search').query(query).set(bearer(userId));

async function foundIds(userId: number, query: Record<string, string | number>): Promise<number[]> {
  const res = await search(userId, query);
  expect(res.status).toBe(200);
  return (res.body.messages as { id: number }[]).map((m) => m.id);
}

describe('GET /search', () => {
  test('finds matching words in the caller\'s conversations, newest first, as Message objects', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const older = await sendMessage(app(), alice, bob, 'Shall we meet for coffee tomorrow?');
    await sendMessage(app(), bob, alice, 'Sure, what time?');
    const newer = await sendMessage(app(), bob, alice, 'The coffee place on the corner');

    const res = await search(alice, { q: 'coffee' });
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: { id: number }) => m.id)).toEqual([newer.message.id, older.message.id]);
    expect(res.body.messages[0]).toEqual(newer.message);
    // The receiver finds the same messages.
    expect(await foundIds(bob, { q: 'coffee' })).toEqual([newer.message.id, older.message.id]);
  });

  test('matches all words of a query and is case-insensitive', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const both = await sendMessage(app(), alice, bob, 'Red apples and GREEN pears');
    await sendMessage(app(), alice, bob, 'red cars only');

    expect(await foundIds(bob, { q: 'RED green' })).toEqual([both.message.id]);
    expect(await foundIds(bob, { q: 'bananas' })).toEqual([]);
  });

  test('never returns another pair\'s messages', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const dave = await createUser(app().chat.sequelize, 'Dave');
    const mine = await sendMessage(app(), alice, bob, 'the secret password is swordfish');
    const theirs = await sendMessage(app(), carol, dave, 'swordfish for dinner');

    expect(await foundIds(alice, { q: 'swordfish' })).toEqual([mine.message.id]);
    expect(await foundIds(carol, { q: 'swordfish' })).toEqual([theirs.message.id]);
    const mallory = await createUser(app().chat.sequelize, 'Mallory');
    expect(await foundIds(mallory, { q: 'swordfish' })).toEqual([]);
  });

  test('conversationId narrows the search to that conversation', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const withBob = await sendMessage(app(), alice, bob, 'project kickoff notes');
    const withCarol = await sendMessage(app(), alice, carol, 'project budget');

    expect(await foundIds(alice, { q: 'project' })).toEqual([withCarol.message.id, withBob.message.id]);
    expect(await foundIds(alice, { q: 'project', conversationId: withBob.message.conversationId })).toEqual([withBob.message.id]);
    expect(await foundIds(alice, { q: 'project', conversationId: withCarol.message.conversationId })).toEqual([
      withCarol.message.id,
    ]);
  });

  test('a conversationId the caller is not in, or that does not exist, is NOT_FOUND', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'private words');

    const foreign = await search(stranger, { q: 'private', conversationId: sent.message.conversationId });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    const missing = await search(alice, { q: 'private', conversationId: sent.message.conversationId + 1000 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  test('limit caps the number of results, keeping the newest', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sendMessage(app(), alice, bob, `report number ${i}`)).message.id);

    expect(await foundIds(alice, { q: 'report', limit: 2 })).toEqual([ids[4], ids[3]]);
    expect(await foundIds(alice, { q: 'report' })).toEqual([...ids].reverse());
  });

  test('limit defaults to 20 and is capped at 100', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const conversationId = (await sendMessage(app(), alice, bob, 'bulk start')).message.conversationId;
    // More rows than the send rate limit allows, so straight into the table.
    await app().chat.sequelize.query(
      `INSERT INTO messages (conversation_id, sender_id, receiver_id, content)
       SELECT :conversationId, :alice, :bob, 'bulk item ' || n FROM generate_series(1, 105) AS n`,
      { replacements: { conversationId, alice, bob } },
    );

    expect(await foundIds(alice, { q: 'bulk' })).toHaveLength(20);
    expect(await foundIds(alice, { q: 'bulk', limit: 500 })).toHaveLength(100);
  });

  test('a blank or missing q is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const path of ['/api/chat/search?q=', '/api/chat/search?q=%20%20', '/api/chat/search?q=%09%0A', '/api/chat/search']) {
      const res = await app().api().get(path).set(bearer(alice));
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED' });
      expect(typeof res.body.error.message).toBe('string');
    }
  });

  test('a malformed limit or conversationId is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const queries: Record<string, string | number>[] = [
      { q: 'x', limit: 0 },
      { q: 'x', limit: 'ten' },
      { q: 'x', conversationId: 'abc' },
      { q: 'x', conversationId: -3 },
    ];
    for (const query of queries) {
      const res = await search(alice, query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  test('deleted messages are not found', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const kept = await sendMessage(app(), alice, bob, 'invoice attached');
    const doomed = await sendMessage(app(), alice, bob, 'wrong invoice');
    expect((await app().api().delete(`/api/chat/messages/${doomed.message.id}`).set(bearer(alice))).status).toBe(204);

    expect(await foundIds(alice, { q: 'invoice' })).toEqual([kept.message.id]);
    expect(await foundIds(bob, { q: 'wrong' })).toEqual([]);
  });

  test('query syntax characters are searched safely, never a 500', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const quoted = await sendMessage(app(), alice, bob, 'an unterminated thought');
    const odd = ['"unterminated', 'a & | ! (', "it's", '\\', ':*', '<->', '!!!', "'; DROP TABLE messages; --", '(((', 'ünïcødé 🙂'];
    for (const q of odd) {
      const res = await search(alice, { q });
      expect({ q, status: res.status }).toEqual({ q, status: 200 });
      expect(Array.isArray(res.body.messages)).toBe(true);
    }
    expect(await foundIds(alice, { q: '"unterminated' })).toEqual([quoted.message.id]);
    // The table is still there.
    expect(await foundIds(alice, { q: 'thought' })).toEqual([quoted.message.id]);
  });

  test('a q longer than 500 characters is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await search(alice, { q: 'x'.repeat(501) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});
