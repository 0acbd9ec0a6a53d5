import { SYSTEM_ACTOR_ID } from '../../src/admin/admin.service';
import { createCast, resetData, sendMessage } from '../helpers/factories';
import { bearer, startTestApp, type TestApp } from '../helpers/test-app';

describe('retention of soft-deleted messages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  beforeEach(() => resetData(t.chat.sequelize));

  test('messages deleted before the cut-off are purged with a system audit entry; newer and visible ones stay', async () => {
    const { alice, bob } = await createCast(t.chat.sequelize);
    const old = await sendMessage(t, alice, bob, 'deleted long ago');
    const recent = await sendMessage(t, alice, bob, 'deleted just now');
    const visible = await sendMessage(t, alice, bob, 'still here');
    for (const m of [old, recent]) await t.api().delete(`/api/chat/messages/${m.message.id}`).set(bearer(alice)).expect(204);
    await t.chat.sequelize.query(`UPDATE messages SET deleted_at = now() - interval '40 days' WHERE id = ${old.message.id}`);

    const purged = await t.chat.services.admin.purgeDeletedBefore(new Date(Date.now() - 30 * 24 * 3600 * 1000));

    expect(purged).toBe(1);
    const [rows] = await t.chat.sequelize.query('SELECT id FROM messages ORDER BY id');
    expect((rows as { id: string }[]).map((r) => Number(r.id))).toEqual([recent.message.id, visible.message.id]);
    const log = await t.api().get(`/api/chat/admin/audit-log?messageId=${old.message.id}`).set(bearer(alice, { admin: true }));
    expect(log.body.entries[0]).toMatchObject({ action: 'message.purged', actorId: SYSTEM_ACTOR_ID, reason: 'retention' });
  });
});
