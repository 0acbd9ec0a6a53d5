import { SYSTEM_ACTOR_ID } from '../../src/admin/admin.service';
import { createCast, sendMessage } from '../helpers/factories';
import { bearer, useTestApp } from '../helpers/test-app';

describe('retention of soft-deleted messages', () => {
  const app = useTestApp();

  test('messages deleted before the cut-off are purged with a system audit entry; newer and visible ones stay', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const old = await sendMessage(app(), alice, bob, 'deleted long ago');
    const recent = await sendMessage(app(), alice, bob, 'deleted just now');
    const visible = await sendMessage(app(), alice, bob, 'still here');
    for (const m of [old, recent]) await app().api().delete(`/api/chat/messages/${m.message.id}`).set(bearer(alice)).expect(204);
    await app().chat.sequelize.query(`UPDATE messages SET deleted_at = now() - interval '40 days' WHERE id = ${old.message.id}`);

    const purged = await app().chat.services.admin.purgeDeletedBefore(new Date(Date.now() - 30 * 24 * 3600 * 1000));

    expect(purged).toBe(1);
    const [rows] = await app().chat.sequelize.query('SELECT id FROM messages ORDER BY id');
    expect((rows as { id: string }[]).map((r) => Number(r.id))).toEqual([recent.message.id, visible.message.id]);
    const log = await app().api().get(`/api/chat/admin/audit-log?messageId=${old.message.id}`).set(bearer(alice, { admin: true }));
    expect(log.body.entries[0]).toMatchObject({ action: 'message.purged', actorId: SYSTEM_ACTOR_ID, reason: 'retention' });
  });
});
