import { WRITE_BATCH } from '../../src/messages/send-batch.repository';
import { createCast } from '../helpers/factories';
import { PNG } from '../helpers/files';
import { bearer, useTestApp } from '../helpers/test-app';

/**
 * Concurrent sends are written in shared transactions (src/messages/message-writer.ts). A message
 * that dedupes or fails must not take the rest of its batch down with it.
 */
describe('batched writes', () => {
  const app = useTestApp();

  const send = (from: number, body: object) => app().api().post('/api/chat/send').set(bearer(from)).send(body);

  test('a failing and a deduplicated message in the same burst leave the others written once each', async () => {
    const { alice, bob, stranger: carol } = await createCast(app().chat.sequelize);
    const upload = await app().api().post('/api/chat/attachments').set(bearer(alice)).attach('file', PNG, 'dot.png');
    const attachmentId = upload.body.attachment.id as number;

    const plain = Array.from({ length: 30 }, (_, i) =>
      send(i % 2 ? alice : bob, { receiverId: i % 2 ? (i % 3 ? bob : carol) : alice, content: `burst ${i}`, clientMessageId: `b-${i}` }),
    );
    // Two sends of one upload (only one may carry it) and two retries of one clientMessageId.
    const racing = [
      send(alice, { receiverId: bob, attachmentId, clientMessageId: 'att-1' }),
      send(alice, { receiverId: carol, attachmentId, clientMessageId: 'att-2' }),
      send(bob, { receiverId: alice, content: 'retry me', clientMessageId: 'dup' }),
      send(bob, { receiverId: alice, content: 'retry me', clientMessageId: 'dup' }),
    ];
    const [plainResults, racingResults] = await Promise.all([Promise.all(plain), Promise.all(racing)]);

    expect(plainResults.map((r) => r.status)).toEqual(Array(30).fill(201));
    expect(racingResults.slice(0, 2).map((r) => r.status).sort()).toEqual([201, 409]);
    expect(racingResults.slice(2).map((r) => r.status).sort()).toEqual([200, 201]);
    expect(racingResults[2]!.body.message.id).toBe(racingResults[3]!.body.message.id);

    const [rows] = await app().chat.sequelize.query(
      'SELECT client_message_id, count(*)::int AS n FROM messages GROUP BY client_message_id ORDER BY client_message_id',
    );
    const counts = new Map((rows as { client_message_id: string; n: number }[]).map((r) => [r.client_message_id, r.n]));
    for (let i = 0; i < 30; i++) expect(counts.get(`b-${i}`)).toBe(1);
    expect(counts.get('dup')).toBe(1);
    expect((counts.get('att-1') ?? 0) + (counts.get('att-2') ?? 0)).toBe(1);
  });

  test('within a conversation ids and times grow together, and counters match the rows', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(i % 2 ? alice : bob, { receiverId: i % 2 ? bob : alice, content: `m${i}` })),
    );
    const [rows] = await app().chat.sequelize.query('SELECT id, created_at FROM messages ORDER BY id');
    const times = (rows as { created_at: Date }[]).map((r) => new Date(r.created_at).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const [[conversation]] = (await app().chat.sequelize.query(
      `SELECT c.last_message_id, c.participant_1_unread + c.participant_2_unread AS unread,
              (SELECT max(id) FROM messages) AS newest, (SELECT count(*) FROM messages WHERE NOT is_read) AS really_unread
         FROM conversations c`,
    )) as [Record<string, string | number>[], unknown];
    expect(Number(conversation!.last_message_id)).toBe(Number(conversation!.newest));
    expect(Number(conversation!.unread)).toBe(Number(conversation!.really_unread));
    expect(Number(conversation!.unread)).toBe(40);
  });

  test('the batch statement settles on a generic plan instead of being planned on every send', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const first = await send(alice, { receiverId: bob, content: 'first' });
    const message = (position: number, size: number) => ({
      position,
      conversation_id: first.body.message.conversationId,
      sender_id: alice,
      receiver_id: bob,
      content: `batch of ${size}`,
      client_message_id: null,
      attachment_id: null,
      attachment: null,
    });
    type Client = { query(q: string | object, v?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
    // One connection, so that its prepared statement and plan counters are the ones read below.
    const plans = await app().chat.sequelize.transaction(async (transaction) => {
      const client = (transaction as unknown as { connection: Client }).connection;
      for (const size of [1, 3, 1, 1, 7, 1, 2, 1, 1, 1]) {
        const batch = Array.from({ length: size }, (_, i) => message(i + 1, size));
        await client.query({ ...WRITE_BATCH, values: [JSON.stringify(batch)] });
      }
      const { rows } = await client.query('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1', [WRITE_BATCH.name]);
      return rows[0];
    });
    expect(Number(plans!.generic_plans)).toBeGreaterThanOrEqual(5);
  });
});
