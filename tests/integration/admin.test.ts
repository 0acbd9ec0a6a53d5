import type { AdminMessageJson } from '../../src/admin/admin.service';
import type { AuditEntryJson } from '../../src/audit/audit-log.repository';
import type { ConversationJson } from '../../src/conversations/conversation.presenter';
import type { MessageJson } from '../../src/messages/message.presenter';
import { createCast, createUser, historyOf, sendMessage } from '../helpers/factories';
import { connectAs, emitAck, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { bearer, useTestApp } from '../helpers/test-app';
import { aLaterMillisecond } from '../helpers/waiting';

const app = useTestApp();

type Headers = Record<string, string>;

async function send(from: number, to: number, content: string): Promise<MessageJson> {
  return (await sendMessage(app(), from, to, content)).message;
}


/** The cast plus an admin, who is a user of the host like anyone else. */
async function castWithAdmin() {
  const cast = await createCast(app().chat.sequelize);
  const admin = await createUser(app().chat.sequelize, 'Ada Admin');
  return { ...cast, admin, asAdmin: bearer(admin, { admin: true }) };
}

/** 'first' then 'second' from alice to bob, far enough apart that their createdAt differ. */
async function firstThenSecond(alice: number, bob: number) {
  const m1 = await send(alice, bob, 'first');
  await aLaterMillisecond();
  const m2 = await send(alice, bob, 'second');
  return { m1, m2, conversationId: m1.conversationId };
}

/** Alice writes to bob, to carol, then to bob again, far enough apart that the conversations' activity times differ. */
async function bobCarolBob(alice: number, bob: number, carol: number) {
  const b1 = await send(alice, bob, 'bob one');
  await aLaterMillisecond(10);
  const c1 = await send(alice, carol, 'carol one');
  await aLaterMillisecond(10);
  const b2 = await send(alice, bob, 'bob two');
  return { b1, c1, b2 };
}

const adminList = (as: Headers, query: Record<string, string | number> = {}) =>
  app().api().get('/api/chat/admin/messages').query(query).set(as);
const restore = (as: Headers, id: number | string, body?: object) =>
  app().api().post(`/api/chat/admin/messages/${id}/restore`).set(as).send(body ?? {});
const purge = (as: Headers, id: number | string, body?: object) => {
  const req = app().api().delete(`/api/chat/admin/messages/${id}`).set(as);
  return body ? req.send(body) : req;
};
const auditLog = (as: Headers, query: Record<string, string | number> = {}) =>
  app().api().get('/api/chat/admin/audit-log').query(query).set(as);
const userDelete = (userId: number, messageId: number) => app().api().delete(`/api/chat/messages/${messageId}`).set(bearer(userId));

async function listedIds(as: Headers, query: Record<string, string | number> = {}): Promise<number[]> {
  const res = await adminList(as, query);
  expect(res.status).toBe(200);
  return (res.body.messages as AdminMessageJson[]).map((m) => m.id);
}

async function auditEntries(as: Headers, query: Record<string, string | number> = {}): Promise<AuditEntryJson[]> {
  const res = await auditLog(as, query);
  expect(res.status).toBe(200);
  return res.body.entries as AuditEntryJson[];
}

async function historyIds(userId: number, conversationId: number): Promise<number[]> {
  return (await historyOf(app(), userId, conversationId)).map((m) => m.id);
}

async function searchIds(userId: number, q: string): Promise<number[]> {
  const res = await app().api().get('/api/chat/search').query({ q }).set(bearer(userId));
  expect(res.status).toBe(200);
  return (res.body.messages as { id: number }[]).map((m) => m.id);
}

async function conversationIdsInList(userId: number): Promise<number[]> {
  const res = await app().api().get('/api/chat/conversations').set(bearer(userId));
  expect(res.status).toBe(200);
  return (res.body.conversations as { id: number }[]).map((c) => c.id);
}

/**
 * The conversation as the user sees it through every route that shows it: GET /conversations,
 * GET /conversations/:id and GET /unread-count must agree.
 */
async function seenBy(userId: number, conversationId: number) {
  const [list, one, counts] = await Promise.all([
    app().api().get('/api/chat/conversations').set(bearer(userId)),
    app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(userId)),
    app().api().get('/api/chat/unread-count').set(bearer(userId)),
  ]);
  expect([list.status, one.status, counts.status]).toEqual([200, 200, 200]);
  const compact = (c: ConversationJson) => ({
    lastMessageId: c.lastMessage?.id ?? null,
    lastMessageAt: c.lastMessageAt,
    unreadCount: c.unreadCount,
  });
  const inList = (list.body.conversations as ConversationJson[]).find((c) => c.id === conversationId);
  expect(inList).toBeDefined();
  expect(compact(inList!)).toEqual(compact(one.body.conversation));
  const listed = (counts.body.conversations as { conversationId: number; unreadCount: number }[]).find(
    (c) => c.conversationId === conversationId,
  );
  return { ...compact(one.body.conversation), unreadTotal: counts.body.total as number, unreadListed: listed?.unreadCount ?? 0 };
}

/**
 * What seenBy returns when `last` is the newest visible message (null: none is left) and the user
 * has `unread` unread messages in the conversation, `unreadTotal` in all of them.
 */
const view = (last: MessageJson | null, unread: number, unreadTotal = unread) => ({
  lastMessageId: last?.id ?? null,
  lastMessageAt: last?.createdAt ?? null,
  unreadCount: unread,
  unreadTotal,
  unreadListed: unread,
});

async function messageRows(id: number) {
  const [rows] = await app().chat.sequelize.query('SELECT id, deleted_at, deleted_by FROM messages WHERE id = :id', {
    replacements: { id },
  });
  return rows as { id: string; deleted_at: Date | null; deleted_by: number | null }[];
}

async function rawAuditRows() {
  const [rows] = await app().chat.sequelize.query('SELECT * FROM audit_log ORDER BY id');
  return rows as Record<string, unknown>[];
}

describe('admin routes: who may call them', () => {
  test('users without the admin role, participants included, get FORBIDDEN on every admin route and nothing changes', async () => {
    const { alice, bob, stranger } = await castWithAdmin();
    const sent = await sendMessage(app(), alice, bob, 'hello there');
    const deleted = await sendMessage(app(), alice, bob, 'take this back');
    expect((await userDelete(alice, deleted.message.id)).status).toBe(204);
    const auditBefore = await rawAuditRows();

    for (const userId of [alice, bob, stranger]) {
      const as = bearer(userId);
      const responses = {
        list: await adminList(as),
        restore: await restore(as, deleted.message.id, { reason: 'please' }),
        purge: await purge(as, sent.message.id, { reason: 'please' }),
        audit: await auditLog(as),
      };
      for (const [route, res] of Object.entries(responses)) {
        expect({ userId, route, status: res.status, code: res.body.error?.code }).toEqual({
          userId,
          route,
          status: 403,
          code: 'FORBIDDEN',
        });
        expect(JSON.stringify(res.body)).not.toContain('take this back');
      }
    }

    // The refused restore and purge did nothing, and wrote nothing to the log.
    expect(await historyIds(bob, sent.message.conversationId)).toEqual([sent.message.id]);
    expect(await messageRows(deleted.message.id)).toEqual([expect.objectContaining({ deleted_by: alice })]);
    expect(await rawAuditRows()).toEqual(auditBefore);
  });

  test('a role claim other than "admin" is FORBIDDEN', async () => {
    const { alice } = await castWithAdmin();
    for (const role of ['moderator', 'Admin', 'user']) {
      const res = await adminList(bearer(alice, { claims: { role } }));
      expect({ role, status: res.status, code: res.body.error?.code }).toEqual({ role, status: 403, code: 'FORBIDDEN' });
    }
  });

  test('a request without a token is UNAUTHORIZED on every admin route', async () => {
    const { alice, bob } = await castWithAdmin();
    const sent = await sendMessage(app(), alice, bob, 'hello');
    const id = sent.message.id;
    const responses = [
      await app().api().get('/api/chat/admin/messages'),
      await app().api().post(`/api/chat/admin/messages/${id}/restore`).send({}),
      await app().api().delete(`/api/chat/admin/messages/${id}`),
      await app().api().get('/api/chat/admin/audit-log'),
    ];
    expect(responses.map((r) => [r.status, r.body.error?.code])).toEqual(Array(4).fill([401, 'UNAUTHORIZED']));
    expect(await messageRows(id)).toHaveLength(1);
  });

  test('the admin role works with the admin\'s own token on every route', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const sent = await sendMessage(app(), alice, bob, 'hello');
    expect((await userDelete(alice, sent.message.id)).status).toBe(204);

    expect((await adminList(asAdmin)).status).toBe(200);
    expect((await restore(asAdmin, sent.message.id)).status).toBe(200);
    expect((await purge(asAdmin, sent.message.id)).status).toBe(204);
    expect((await auditLog(asAdmin)).status).toBe(200);
  });

  test('a non-admin gets FORBIDDEN whatever they send; only an admin hears that the input is malformed', async () => {
    const { alice, asAdmin } = await castWithAdmin();
    const malformed = [
      (as: Headers) => adminList(as, { deleted: 'everything', limit: -1 }),
      (as: Headers) => restore(as, 'abc', { reason: 'x'.repeat(501) }),
      (as: Headers) => purge(as, 0),
      (as: Headers) => auditLog(as, { messageId: 'abc' }),
    ];
    for (const call of malformed) {
      expect((await call(bearer(alice))).body.error?.code).toBe('FORBIDDEN');
      expect((await call(asAdmin)).body.error?.code).toBe('VALIDATION_FAILED');
    }
  });

  test('the admin service itself refuses a caller without the admin role, whatever the door', async () => {
    const { alice, bob, admin } = await castWithAdmin();
    const sent = await sendMessage(app(), alice, bob, 'hello');
    expect((await userDelete(alice, sent.message.id)).status).toBe(204);
    const service = app().chat.services.admin;
    const user = { userId: alice, isAdmin: false };
    const forbidden = expect.objectContaining({ code: 'FORBIDDEN', status: 403 });

    await expect(service.listMessages(user, { deleted: 'include', limit: 10 })).rejects.toEqual(forbidden);
    await expect(service.auditLog(user, { limit: 10 })).rejects.toEqual(forbidden);
    await expect(service.restore(user, sent.message.id)).rejects.toEqual(forbidden);
    await expect(service.purge(user, sent.message.id)).rejects.toEqual(forbidden);
    expect(await messageRows(sent.message.id)).toEqual([expect.objectContaining({ deleted_by: alice })]);

    const asAdmin = { userId: admin, isAdmin: true };
    expect((await service.restore(asAdmin, sent.message.id)).message.id).toBe(sent.message.id);
    await service.purge(asAdmin, sent.message.id);
    expect(await messageRows(sent.message.id)).toEqual([]);
    expect((await service.auditLog(asAdmin, { limit: 10 })).entries.map((e) => [e.action, e.actorId])).toEqual([
      ['message.purged', admin],
      ['message.restored', admin],
      ['message.deleted', alice],
    ]);
  });
});

describe('GET /admin/messages', () => {
  /** Four messages in one conversation, two of them soft-deleted by their senders. */
  async function scene() {
    const cast = await castWithAdmin();
    const { alice, bob } = cast;
    const m1 = await send(alice, bob, 'one');
    const m2 = await send(alice, bob, 'two');
    const m3 = await send(bob, alice, 'three');
    const m4 = await send(alice, bob, 'four');
    expect((await userDelete(alice, m2.id)).status).toBe(204);
    expect((await userDelete(bob, m3.id)).status).toBe(204);
    return { ...cast, m1, m2, m3, m4 };
  }

  test('deleted=only lists the soft-deleted messages, exclude the visible ones, include (the default) all, newest first', async () => {
    const { asAdmin, m1, m2, m3, m4 } = await scene();

    expect(await listedIds(asAdmin, { deleted: 'only' })).toEqual([m3.id, m2.id]);
    expect(await listedIds(asAdmin, { deleted: 'exclude' })).toEqual([m4.id, m1.id]);
    expect(await listedIds(asAdmin, { deleted: 'include' })).toEqual([m4.id, m3.id, m2.id, m1.id]);
    expect(await listedIds(asAdmin)).toEqual([m4.id, m3.id, m2.id, m1.id]);
  });

  test('each message carries its content, deletedAt and deletedBy: who deleted it and when, null while visible', async () => {
    const { alice, bob, asAdmin, m1, m2, m3 } = await scene();

    const res = await adminList(asAdmin);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['messages']);
    const byId = new Map((res.body.messages as AdminMessageJson[]).map((m) => [m.id, m]));

    const [row2] = await messageRows(m2.id);
    const [row3] = await messageRows(m3.id);
    expect(byId.get(m2.id)).toEqual({ ...m2, deletedAt: row2!.deleted_at!.toISOString(), deletedBy: alice });
    expect(byId.get(m3.id)).toEqual({ ...m3, deletedAt: row3!.deleted_at!.toISOString(), deletedBy: bob });
    expect(byId.get(m1.id)).toEqual({ ...m1, deletedAt: null, deletedBy: null });
    expect(byId.get(m3.id)).toMatchObject({ content: 'three', senderId: bob, receiverId: alice });
    expect(Date.parse(byId.get(m2.id)!.deletedAt!)).toBeGreaterThanOrEqual(Date.parse(m2.createdAt));
  });

  test('conversationId and senderId narrow the list and combine with deleted', async () => {
    const { alice, bob, stranger: carol, asAdmin, m1, m2, m3, m4 } = await scene();
    const c1 = await send(carol, alice, 'from carol');
    const c2 = await send(alice, carol, 'to carol');
    expect((await userDelete(alice, c2.id)).status).toBe(204);

    expect(await listedIds(asAdmin, { conversationId: m1.conversationId })).toEqual([m4.id, m3.id, m2.id, m1.id]);
    expect(await listedIds(asAdmin, { conversationId: c1.conversationId })).toEqual([c2.id, c1.id]);
    expect(await listedIds(asAdmin, { senderId: alice })).toEqual([c2.id, m4.id, m2.id, m1.id]);
    expect(await listedIds(asAdmin, { senderId: bob })).toEqual([m3.id]);
    expect(await listedIds(asAdmin, { senderId: carol })).toEqual([c1.id]);
    expect(await listedIds(asAdmin, { senderId: alice, deleted: 'only' })).toEqual([c2.id, m2.id]);
    expect(await listedIds(asAdmin, { senderId: alice, conversationId: m1.conversationId, deleted: 'exclude' })).toEqual([
      m4.id,
      m1.id,
    ]);
    expect(await listedIds(asAdmin, { conversationId: m1.conversationId + 1000 })).toEqual([]);
  });

  test('since and until select createdAt >= since and < until', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const sent: MessageJson[] = [];
    for (const content of ['a', 'b', 'c', 'd', 'e']) {
      sent.push(await send(alice, bob, content));
      await aLaterMillisecond(15);
    }
    const [a, b, c, d, e] = sent as [MessageJson, MessageJson, MessageJson, MessageJson, MessageJson];
    expect(new Set(sent.map((m) => m.createdAt)).size).toBe(5);
    expect((await userDelete(alice, c.id)).status).toBe(204);

    // since is inclusive, until exclusive.
    expect(await listedIds(asAdmin, { since: b.createdAt, until: e.createdAt })).toEqual([d.id, c.id, b.id]);
    expect(await listedIds(asAdmin, { since: d.createdAt })).toEqual([e.id, d.id]);
    expect(await listedIds(asAdmin, { until: b.createdAt })).toEqual([a.id]);
    expect(await listedIds(asAdmin, { since: b.createdAt, until: b.createdAt })).toEqual([]);
    expect(await listedIds(asAdmin, { since: b.createdAt, until: e.createdAt, deleted: 'only' })).toEqual([c.id]);
    // The same instant written with an offset selects the same messages.
    const bWithOffset = `${new Date(Date.parse(b.createdAt) + 2 * 3600_000).toISOString().slice(0, -1)}+02:00`;
    expect(Date.parse(bWithOffset)).toBe(Date.parse(b.createdAt));
    expect(await listedIds(asAdmin, { since: bWithOffset, until: e.createdAt })).toEqual([d.id, c.id, b.id]);
  });

  test('before pages back through every message exactly once, newest first', async () => {
    const { alice, bob, stranger: carol, asAdmin } = await castWithAdmin();
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const [from, to] = i % 3 === 0 ? [carol, alice] : [alice, bob];
      ids.push((await send(from, to, `page ${i}`)).id);
    }
    for (const i of [1, 4, 5]) expect((await userDelete(alice, ids[i]!)).status).toBe(204);

    const walk = async (query: Record<string, string | number>) => {
      const pages: number[][] = [];
      let before: number | undefined;
      for (;;) {
        const page = await listedIds(asAdmin, { ...query, limit: 3, ...(before ? { before } : {}) });
        if (!page.length) break;
        pages.push(page);
        before = page[page.length - 1];
        expect(pages.length).toBeLessThan(10);
      }
      return pages;
    };

    const all = await walk({});
    expect(all.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(all.flat()).toEqual([...ids].reverse());
    expect(new Set(all.flat()).size).toBe(ids.length);

    const deletedOnly = await walk({ deleted: 'only' });
    expect(deletedOnly.flat()).toEqual([ids[5], ids[4], ids[1]]);
    expect(await listedIds(asAdmin, { before: ids[4]!, deleted: 'only' })).toEqual([ids[1]]);
  });

  test('limit defaults to 50 and is capped at 100', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const first = await sendMessage(app(), alice, bob, 'first');
    await app().chat.sequelize.query(
      `INSERT INTO messages (conversation_id, sender_id, receiver_id, content, created_at, updated_at)
       SELECT :conversationId, :alice, :bob, 'bulk ' || g, now(), now() FROM generate_series(1, 120) AS g`,
      { replacements: { conversationId: first.message.conversationId, alice, bob } },
    );

    expect(await listedIds(asAdmin)).toHaveLength(50);
    expect(await listedIds(asAdmin, { limit: 100 })).toHaveLength(100);
    const capped = await listedIds(asAdmin, { limit: 1000 });
    expect(capped).toHaveLength(100);
    expect(capped).toEqual([...capped].sort((x, y) => y - x));
    expect(await listedIds(asAdmin, { limit: 7 })).toHaveLength(7);
  });

  test('a bad deleted value, a time that is not ISO-8601 or a malformed id is VALIDATION_FAILED', async () => {
    const { asAdmin } = await castWithAdmin();
    const bad: Record<string, string>[] = [
      { deleted: 'all' },
      { deleted: 'yes' },
      { since: 'yesterday' },
      { since: '1' },
      { since: 'May 3 2026' },
      { since: '2026-13-45T00:00:00Z' },
      { since: '0000-01-01' }, // year 0: a Date in JavaScript, no date in PostgreSQL (a 500 once)
      { until: 'not-a-date' },
      { conversationId: 'abc' },
      { senderId: '-1' },
      { before: '0' },
      { limit: '0' },
      { limit: 'ten' },
    ];
    for (const query of bad) {
      const res = await adminList(asAdmin, query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
    // Well-formed values pass.
    expect((await adminList(asAdmin, { since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00.000+01:00' })).status).toBe(200);
    expect((await adminList(asAdmin, { since: '0001-01-01', until: '9999-12-31T23:59:59.999999999Z' })).status).toBe(200);
  });

  test('a repeated deleted parameter (an array) is VALIDATION_FAILED, and a bad time names its field once', async () => {
    const { asAdmin } = await castWithAdmin();
    for (const query of ['deleted=only&deleted=exclude', 'deleted=only&deleted=only']) {
      const res = await app().api().get(`/api/chat/admin/messages?${query}`).set(asAdmin);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
    const res = await adminList(asAdmin, { since: 'yesterday' });
    expect(res.body.error.message).toBe('since must be an ISO-8601 time');
  });
});

describe('POST /admin/messages/:id/restore', () => {
  test('restoring the newest message makes it lastMessage again and counts it unread for the receiver', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const { m1, m2, conversationId } = await firstThenSecond(alice, bob);
    expect((await userDelete(alice, m2.id)).status).toBe(204);
    expect(await seenBy(bob, conversationId)).toEqual(view(m1, 1));

    const res = await restore(asAdmin, m2.id, { reason: 'deleted by mistake' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: { ...m2, deletedAt: null, deletedBy: null } });

    expect(await seenBy(bob, conversationId)).toEqual(view(m2, 2));
    expect(await seenBy(alice, conversationId)).toEqual(view(m2, 0));
    expect(await messageRows(m2.id)).toEqual([{ id: String(m2.id), deleted_at: null, deleted_by: null }]);
  });

  test('restoring an older message leaves lastMessage alone and counts it unread again', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'first');
    await sendMessage(app(), alice, bob, 'second');
    const m3 = await send(alice, bob, 'third');
    const conversationId = m1.conversationId;
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    expect((await seenBy(bob, conversationId)).unreadCount).toBe(2);

    expect((await restore(asAdmin, m1.id)).status).toBe(200);
    expect(await seenBy(bob, conversationId)).toEqual(view(m3, 3));
    expect(await seenBy(alice, conversationId)).toEqual(view(m3, 0));
  });

  test('a message the receiver had not read comes back unread even after they read the rest of the conversation', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'unread, then deleted');
    const m2 = await send(alice, bob, 'read');
    const conversationId = m1.conversationId;
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    const read = await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({});
    expect(read.body.count).toBe(1);
    expect((await seenBy(bob, conversationId)).unreadTotal).toBe(0);

    const res = await restore(asAdmin, m1.id);
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({ id: m1.id, isRead: false, readAt: null });
    expect(await seenBy(bob, conversationId)).toEqual(view(m2, 1));
  });

  test('restoring a message the receiver had read leaves the unread counts alone', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'read before it was deleted');
    const conversationId = m1.conversationId;
    await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({});
    const m2 = await send(alice, bob, 'unread');
    expect((await userDelete(alice, m1.id)).status).toBe(204);

    const res = await restore(asAdmin, m1.id);
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({ id: m1.id, isRead: true });
    expect(await seenBy(bob, conversationId)).toEqual(view(m2, 1));
  });

  test('a restored message reappears in both users\' history and search', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'the walrus sings');
    const m2 = await send(bob, alice, 'the walrus dances');
    const m3 = await send(alice, bob, 'goodbye');
    const conversationId = m1.conversationId;
    expect((await userDelete(bob, m2.id)).status).toBe(204);
    expect(await historyIds(alice, conversationId)).toEqual([m1.id, m3.id]);
    expect(await searchIds(alice, 'walrus')).toEqual([m1.id]);

    expect((await restore(asAdmin, m2.id)).status).toBe(200);
    for (const user of [alice, bob]) {
      expect(await historyIds(user, conversationId)).toEqual([m1.id, m2.id, m3.id]);
      expect(await searchIds(user, 'walrus')).toEqual([m2.id, m1.id]);
      expect(await searchIds(user, 'dances')).toEqual([m2.id]);
    }
    const history = await app().api().get(`/api/chat/conversations/${conversationId}/messages`).set(bearer(alice));
    expect(history.body.messages[1]).toEqual(m2);
    // The sender can delete it again like any visible message.
    expect((await userDelete(bob, m2.id)).status).toBe(204);
  });

  test('restoring moves the conversation back up the list', async () => {
    const { alice, bob, stranger: carol, asAdmin } = await castWithAdmin();
    const { b1, c1, b2 } = await bobCarolBob(alice, bob, carol);
    const [withBob, withCarol] = [b1.conversationId, c1.conversationId];
    expect(await conversationIdsInList(alice)).toEqual([withBob, withCarol]);

    expect((await userDelete(alice, b2.id)).status).toBe(204);
    expect(await conversationIdsInList(alice)).toEqual([withCarol, withBob]);
    expect((await restore(asAdmin, b2.id)).status).toBe(200);
    expect(await conversationIdsInList(alice)).toEqual([withBob, withCarol]);
    expect(await conversationIdsInList(bob)).toEqual([withBob]);
  });

  test('restoring a message that is not deleted is CONFLICT and changes nothing', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'visible');
    const before = await seenBy(bob, m1.conversationId);

    const res = await restore(asAdmin, m1.id, { reason: 'no reason' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
    expect(await seenBy(bob, m1.conversationId)).toEqual(before);
    expect(await rawAuditRows()).toEqual([]);
  });

  test('restoring twice is CONFLICT the second time and counts the message once', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'twice');
    expect((await userDelete(alice, m1.id)).status).toBe(204);

    const [first, second] = await Promise.all([restore(asAdmin, m1.id), restore(asAdmin, m1.id)]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect((await seenBy(bob, m1.conversationId)).unreadCount).toBe(1);
    expect((await auditEntries(asAdmin, { messageId: m1.id })).map((e) => e.action)).toEqual(['message.restored', 'message.deleted']);
  });

  test('restoring or purging a message that does not exist is NOT_FOUND; a malformed id is VALIDATION_FAILED', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'exists');

    for (const res of [await restore(asAdmin, m1.id + 1000), await purge(asAdmin, m1.id + 1000)]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    for (const id of ['abc', '0', '-3', '1.5']) {
      for (const res of [await restore(asAdmin, id), await purge(asAdmin, id)]) {
        expect({ id, status: res.status, code: res.body.error?.code }).toEqual({ id, status: 400, code: 'VALIDATION_FAILED' });
      }
    }
    expect(await rawAuditRows()).toEqual([]);
  });

  test('a reason that is not a string of at most 500 characters is VALIDATION_FAILED', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'reasons');
    expect((await userDelete(alice, m1.id)).status).toBe(204);

    for (const reason of [42, 'x'.repeat(501), { text: 'no' }]) {
      const res = await restore(asAdmin, m1.id, { reason });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const purged = await purge(asAdmin, m1.id, { reason });
      expect(purged.status).toBe(400);
    }
    expect(await messageRows(m1.id)).toEqual([expect.objectContaining({ deleted_by: alice })]);
    expect((await restore(asAdmin, m1.id, { reason: 'x'.repeat(500) })).status).toBe(200);
  });
});

describe('DELETE /admin/messages/:id', () => {
  test('purging the newest visible message removes the row, falls back lastMessage and lowers the receiver\'s unread count', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const { m1, m2, conversationId } = await firstThenSecond(alice, bob);
    expect((await seenBy(bob, conversationId)).unreadCount).toBe(2);

    const res = await purge(asAdmin, m2.id, { reason: 'erasure request' });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await messageRows(m2.id)).toEqual([]);

    expect(await seenBy(bob, conversationId)).toEqual(view(m1, 1));
    expect(await seenBy(alice, conversationId)).toEqual(view(m1, 0));
  });

  test('purging an older unread message lowers the unread count and leaves lastMessage alone', async () => {
    const { alice, bob, stranger: carol, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'first');
    const m2 = await send(alice, bob, 'second');
    await sendMessage(app(), carol, bob, 'elsewhere');
    const conversationId = m1.conversationId;

    expect((await purge(asAdmin, m1.id)).status).toBe(204);
    expect(await seenBy(bob, conversationId)).toEqual(view(m2, 1, 2));
  });

  test('purging a message that was already soft-deleted does not lower the counts a second time', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'first');
    const m2 = await send(alice, bob, 'second');
    const conversationId = m1.conversationId;
    expect((await userDelete(alice, m2.id)).status).toBe(204);
    const afterDelete = await seenBy(bob, conversationId);
    expect(afterDelete).toEqual(view(m1, 1));

    expect((await purge(asAdmin, m2.id)).status).toBe(204);
    expect(await seenBy(bob, conversationId)).toEqual(afterDelete);
    expect(await messageRows(m2.id)).toEqual([]);
  });

  test('purging a message the receiver had read leaves the unread counts alone', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'read');
    const conversationId = m1.conversationId;
    await app().api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({});
    const m2 = await send(bob, alice, 'reply');

    expect((await purge(asAdmin, m1.id)).status).toBe(204);
    expect(await seenBy(bob, conversationId)).toEqual(view(m2, 0));
    expect((await seenBy(alice, conversationId)).unreadCount).toBe(1);
  });

  test('purging the only message leaves an empty conversation ordered by its createdAt', async () => {
    const { alice, bob, stranger: carol, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'only one');
    await aLaterMillisecond(10);
    const c1 = await send(alice, carol, 'carol');
    await aLaterMillisecond(10);
    expect((await purge(asAdmin, c1.id)).status).toBe(204);
    // Carol's conversation was created after Bob's message: it stays in front while empty.
    expect(await conversationIdsInList(alice)).toEqual([c1.conversationId, m1.conversationId]);

    expect((await purge(asAdmin, m1.id)).status).toBe(204);
    for (const user of [alice, bob]) {
      const seen = await seenBy(user, m1.conversationId);
      expect(seen).toEqual(view(null, 0));
    }
    const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n FROM messages');
    expect(rows).toEqual([{ n: 0 }]);
  });

  test('purging moves the conversation down the list', async () => {
    const { alice, bob, stranger: carol, asAdmin } = await castWithAdmin();
    const { b1, c1, b2 } = await bobCarolBob(alice, bob, carol);
    expect(await conversationIdsInList(alice)).toEqual([b1.conversationId, c1.conversationId]);

    expect((await purge(asAdmin, b2.id)).status).toBe(204);
    expect(await conversationIdsInList(alice)).toEqual([c1.conversationId, b1.conversationId]);
  });

  test('a purged message is unreachable everywhere: history, search, the admin list, restore, purge and delete', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const kept = await send(alice, bob, 'zebra crossing');
    const doomed = await send(alice, bob, 'zebra stripes');
    const conversationId = kept.conversationId;

    expect((await purge(asAdmin, doomed.id)).status).toBe(204);

    for (const user of [alice, bob]) {
      expect(await historyIds(user, conversationId)).toEqual([kept.id]);
      expect(await searchIds(user, 'zebra')).toEqual([kept.id]);
      expect(await searchIds(user, 'stripes')).toEqual([]);
    }
    expect(await listedIds(asAdmin)).toEqual([kept.id]);
    expect(await listedIds(asAdmin, { deleted: 'only' })).toEqual([]);
    for (const res of [await restore(asAdmin, doomed.id), await purge(asAdmin, doomed.id), await userDelete(alice, doomed.id)]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    // The row and its search data are gone from the database.
    const [rows] = await app().chat.sequelize.query(
      `SELECT count(*)::int AS n FROM messages WHERE id = :id OR search_vector @@ websearch_to_tsquery('simple', 'stripes')`,
      { replacements: { id: doomed.id } },
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  test('after a purge the text is in none of Duet\'s tables', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const secret = 'quokka-erasure-7731';
    const doomed = await send(alice, bob, `my ${secret} is here`);
    await sendMessage(app(), bob, alice, 'reply');
    expect((await userDelete(alice, doomed.id)).status).toBe(204);
    expect((await restore(asAdmin, doomed.id, { reason: 'appeal' })).status).toBe(200);
    expect((await purge(asAdmin, doomed.id, { reason: 'erasure request' })).status).toBe(204);

    const [tables] = await app().chat.sequelize.query(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    const names = (tables as { tablename: string }[]).map((r) => r.tablename);
    expect(names).toEqual(expect.arrayContaining(['messages', 'conversations', 'audit_log']));
    for (const name of names) {
      const [rows] = await app().chat.sequelize.query(`SELECT count(*)::int AS n FROM "${name}" AS x WHERE x::text LIKE :pattern`, {
        replacements: { pattern: `%${secret}%` },
      });
      expect({ name, rows }).toEqual({ name, rows: [{ n: 0 }] });
    }
  });
});

describe('admin actions reach the participants\' sockets', () => {
  test('purging a visible message sends message_deleted to both participants and not to a stranger', async () => {
    const { alice, bob, stranger, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'visible');
    const [a, b, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), bob), connectAs(app(), stranger)]);
    const strangerSaw = record(s, 'message_deleted');
    const aliceSaw = record(a, 'message_deleted');
    const toAlice = nextEvent(a, 'message_deleted');
    const toBob = nextEvent(b, 'message_deleted');

    expect((await purge(asAdmin, m1.id)).status).toBe(204);
    const expected = { messageId: m1.id, conversationId: m1.conversationId };
    expect(await toAlice).toEqual(expected);
    expect(await toBob).toEqual(expected);
    await letStrayEventsArrive();
    expect(strangerSaw).toEqual([]);
    expect(aliceSaw).toHaveLength(1);
  });

  test('purging a message users no longer see sends no message_deleted', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'deleted first');
    const [a, b] = await Promise.all([connectAs(app(), alice), connectAs(app(), bob)]);
    const deleted = nextEvent(b, 'message_deleted');
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    await deleted;

    const aliceSaw = record(a, 'message_deleted');
    const bobSaw = record(b, 'message_deleted');
    expect((await purge(asAdmin, m1.id)).status).toBe(204);
    await letStrayEventsArrive();
    expect(aliceSaw).toEqual([]);
    expect(bobSaw).toEqual([]);
  });

  test('restoring sends message_restored with the message and each participant\'s own view, and nothing to a stranger', async () => {
    const { alice, bob, stranger, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'first');
    const m2 = await send(alice, bob, 'comes back');
    expect((await userDelete(alice, m2.id)).status).toBe(204);
    const [a, b, s] = await Promise.all([connectAs(app(), alice), connectAs(app(), bob), connectAs(app(), stranger)]);
    const strangerSaw = record(s, 'message_restored');
    type Restored = { message: { id: number }; conversation: ConversationJson };
    const toAlice = nextEvent<Restored>(a, 'message_restored');
    const toBob = nextEvent<Restored>(b, 'message_restored');

    expect((await restore(asAdmin, m2.id)).status).toBe(200);
    const [aliceGot, bobGot] = await Promise.all([toAlice, toBob]);
    expect(aliceGot.message).toEqual(m2);
    expect(bobGot.message).toEqual(m2);
    expect(aliceGot.conversation).toMatchObject({ id: m1.conversationId, unreadCount: 0, lastMessage: { id: m2.id } });
    expect(bobGot.conversation).toMatchObject({ id: m1.conversationId, unreadCount: 2, lastMessage: { id: m2.id } });
    const bobView = await app().api().get(`/api/chat/conversations/${m1.conversationId}`).set(bearer(bob));
    expect(bobGot.conversation).toEqual(bobView.body.conversation);
    await letStrayEventsArrive();
    expect(strangerSaw).toEqual([]);
  });

  test('a refused restore sends nothing', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'never deleted');
    const b = await connectAs(app(), bob);
    const bobSaw = record(b, 'message_restored');
    const bobDeleted = record(b, 'message_deleted');

    expect((await restore(asAdmin, m1.id)).status).toBe(409);
    expect((await restore(bearer(alice), m1.id)).status).toBe(403);
    expect((await purge(bearer(alice), m1.id)).status).toBe(403);
    // A delivered event afterwards proves the socket was listening.
    const proof = nextEvent(b, 'new_message');
    await sendMessage(app(), alice, bob, 'proof');
    await proof;
    await letStrayEventsArrive();
    expect(bobSaw).toEqual([]);
    expect(bobDeleted).toEqual([]);
  });
});

describe('GET /admin/audit-log', () => {
  test('records a user delete, an admin restore and an admin purge with actor, message, conversation and reason, newest first', async () => {
    const { alice, bob, admin, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'audited');
    const started = Date.now();
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    expect((await restore(asAdmin, m1.id, { reason: 'appeal upheld' })).status).toBe(200);
    expect((await purge(asAdmin, m1.id, { reason: 'erasure request' })).status).toBe(204);

    const res = await auditLog(asAdmin);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['entries']);
    const entries = res.body.entries as AuditEntryJson[];
    const common = { messageId: m1.id, conversationId: m1.conversationId };
    expect(entries.map(({ id: _id, at: _at, ...rest }) => rest)).toEqual([
      { action: 'message.purged', actorId: admin, ...common, reason: 'erasure request' },
      { action: 'message.restored', actorId: admin, ...common, reason: 'appeal upheld' },
      { action: 'message.deleted', actorId: alice, ...common, reason: null },
    ]);
    for (const entry of entries) {
      expect(Object.keys(entry).sort()).toEqual(['action', 'actorId', 'at', 'conversationId', 'id', 'messageId', 'reason']);
      expect(typeof entry.id).toBe('number');
      expect(entry.at).toBe(new Date(entry.at).toISOString());
      expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(started - 1000);
      expect(Date.parse(entry.at)).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((x, y) => y - x));
    // A purge without a reason is recorded with reason null.
    const m2 = await send(alice, bob, 'again');
    expect((await purge(asAdmin, m2.id)).status).toBe(204);
    expect((await auditEntries(asAdmin, { messageId: m2.id }))[0]).toMatchObject({ action: 'message.purged', reason: null });
  });

  test('a delete over the socket is recorded like one over REST', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'socket delete');
    const a = await connectAs(app(), alice);
    expect(await emitAck(a, 'delete_message', { messageId: m1.id })).toEqual({ ok: true });

    expect((await auditEntries(asAdmin)).map(({ action, actorId, messageId }) => ({ action, actorId, messageId }))).toEqual([
      { action: 'message.deleted', actorId: alice, messageId: m1.id },
    ]);
  });

  test('entries never contain message content, in the response or in the table', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const texts = ['pangolin-secret-one', 'pangolin-secret-two', 'pangolin-secret-three'];
    const m1 = await send(alice, bob, texts[0]!);
    const m2 = await send(bob, alice, texts[1]!);
    const m3 = await send(alice, bob, texts[2]!);
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    expect((await userDelete(bob, m2.id)).status).toBe(204);
    expect((await restore(asAdmin, m2.id, { reason: 'restored on appeal' })).status).toBe(200);
    expect((await purge(asAdmin, m3.id, { reason: 'erasure' })).status).toBe(204);
    expect((await purge(asAdmin, m1.id)).status).toBe(204);

    const res = await auditLog(asAdmin);
    expect(res.body.entries).toHaveLength(5);
    const json = JSON.stringify(res.body);
    const rows = await rawAuditRows();
    expect(rows).toHaveLength(5);
    const raw = JSON.stringify(rows);
    for (const text of texts) {
      expect(json).not.toContain(text);
      expect(raw).not.toContain(text);
    }
    expect(json).not.toContain('pangolin');
    expect(raw).not.toContain('pangolin');
    expect(Object.keys(rows[0]!).sort()).toEqual(['action', 'actor_id', 'at', 'conversation_id', 'id', 'message_id', 'reason']);
  });

  test('messageId and actorId filter the log and before pages through it without duplicates', async () => {
    const { alice, bob, admin, asAdmin } = await castWithAdmin();
    const a1 = await send(alice, bob, 'a1');
    const a2 = await send(alice, bob, 'a2');
    const b1 = await send(bob, alice, 'b1');
    expect((await userDelete(alice, a1.id)).status).toBe(204);
    expect((await userDelete(alice, a2.id)).status).toBe(204);
    expect((await userDelete(bob, b1.id)).status).toBe(204);
    expect((await restore(asAdmin, a1.id)).status).toBe(200);
    expect((await restore(asAdmin, b1.id)).status).toBe(200);
    expect((await purge(asAdmin, a2.id)).status).toBe(204);
    const summary = (entries: AuditEntryJson[]) => entries.map((e) => `${e.action} ${e.messageId} by ${e.actorId}`);

    expect(summary(await auditEntries(asAdmin, { messageId: a1.id }))).toEqual([
      `message.restored ${a1.id} by ${admin}`,
      `message.deleted ${a1.id} by ${alice}`,
    ]);
    expect(summary(await auditEntries(asAdmin, { messageId: a2.id }))).toEqual([
      `message.purged ${a2.id} by ${admin}`,
      `message.deleted ${a2.id} by ${alice}`,
    ]);
    expect(summary(await auditEntries(asAdmin, { actorId: admin }))).toEqual([
      `message.purged ${a2.id} by ${admin}`,
      `message.restored ${b1.id} by ${admin}`,
      `message.restored ${a1.id} by ${admin}`,
    ]);
    expect(summary(await auditEntries(asAdmin, { actorId: bob }))).toEqual([`message.deleted ${b1.id} by ${bob}`]);
    expect(summary(await auditEntries(asAdmin, { actorId: admin, messageId: b1.id }))).toEqual([`message.restored ${b1.id} by ${admin}`]);
    expect(await auditEntries(asAdmin, { messageId: b1.id + 1000 })).toEqual([]);

    const all = await auditEntries(asAdmin);
    expect(all).toHaveLength(6);
    const pages: AuditEntryJson[][] = [];
    let before: number | undefined;
    for (;;) {
      const page = await auditEntries(asAdmin, { limit: 4, ...(before ? { before } : {}) });
      if (!page.length) break;
      pages.push(page);
      before = page[page.length - 1]!.id;
      expect(pages.length).toBeLessThan(5);
    }
    expect(pages.map((p) => p.length)).toEqual([4, 2]);
    expect(pages.flat()).toEqual(all);
    expect(new Set(pages.flat().map((e) => e.id)).size).toBe(6);
    // before combines with a filter: alice's entries older than bob's delete.
    const aliceBefore = await auditEntries(asAdmin, { actorId: alice, before: all[3]!.id });
    expect(summary(aliceBefore)).toEqual([`message.deleted ${a2.id} by ${alice}`, `message.deleted ${a1.id} by ${alice}`]);
    expect(summary(await auditEntries(asAdmin, { actorId: alice, before: all[4]!.id }))).toEqual([`message.deleted ${a1.id} by ${alice}`]);
  });

  test('limit defaults to 50 and is capped at 100; malformed filters are VALIDATION_FAILED', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'seed');
    await app().chat.sequelize.query(
      `INSERT INTO audit_log (action, actor_id, message_id, conversation_id)
       SELECT 'message.deleted', :alice, :messageId, :conversationId FROM generate_series(1, 120)`,
      { replacements: { alice, messageId: m1.id, conversationId: m1.conversationId } },
    );
    expect(await auditEntries(asAdmin)).toHaveLength(50);
    expect(await auditEntries(asAdmin, { limit: 1000 })).toHaveLength(100);
    expect(await auditEntries(asAdmin, { limit: 3 })).toHaveLength(3);

    const bad: Record<string, string>[] = [{ messageId: 'abc' }, { actorId: '0' }, { before: '-1' }, { limit: '0' }];
    for (const query of bad) {
      const res = await auditLog(asAdmin, query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  test('the audit table refuses UPDATE and DELETE', async () => {
    const { alice, bob, asAdmin } = await castWithAdmin();
    const m1 = await send(alice, bob, 'history stays');
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    const before = await rawAuditRows();
    expect(before).toHaveLength(1);

    await expect(app().chat.sequelize.query(`UPDATE audit_log SET reason = 'rewritten'`)).rejects.toThrow(/append-only/);
    await expect(app().chat.sequelize.query(`UPDATE audit_log SET actor_id = actor_id + 1 WHERE message_id = ${m1.id}`)).rejects.toThrow(
      /append-only/,
    );
    await expect(app().chat.sequelize.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    expect(await rawAuditRows()).toEqual(before);
    expect(await auditEntries(asAdmin)).toHaveLength(1);
  });
});

describe('users never see deleted content', () => {
  test('a soft-deleted message is absent from every user route while admins still see it', async () => {
    const { alice, bob, stranger, asAdmin } = await castWithAdmin();
    const secret = 'narwhal-hidden-5512';
    const kept = await send(alice, bob, 'narwhal visible');
    const doomed = await send(alice, bob, `the ${secret} note`);
    const conversationId = kept.conversationId;
    expect((await userDelete(alice, doomed.id)).status).toBe(204);

    for (const user of [alice, bob, stranger]) {
      const responses = await Promise.all([
        app().api().get(`/api/chat/conversations/${conversationId}/messages`).set(bearer(user)),
        app().api().get(`/api/chat/conversations/${conversationId}/messages`).query({ after: kept.id }).set(bearer(user)),
        app().api().get(`/api/chat/conversations/${conversationId}/messages`).query({ before: doomed.id + 1 }).set(bearer(user)),
        app().api().get('/api/chat/search').query({ q: secret }).set(bearer(user)),
        app().api().get('/api/chat/search').query({ q: 'narwhal' }).set(bearer(user)),
        app().api().get('/api/chat/conversations').set(bearer(user)),
        app().api().get(`/api/chat/conversations/${conversationId}`).set(bearer(user)),
        app().api().get('/api/chat/unread-count').set(bearer(user)),
        app().api().post('/api/chat/conversations').set(bearer(user)).send({ participantId: user === alice ? bob : alice }),
      ]);
      for (const res of responses) {
        expect(res.status).toBeLessThan(500);
        expect(JSON.stringify(res.body)).not.toContain(secret);
      }
    }
    for (const user of [alice, bob]) {
      expect(await historyIds(user, conversationId)).toEqual([kept.id]);
      expect(await searchIds(user, 'narwhal')).toEqual([kept.id]);
      expect((await seenBy(user, conversationId)).lastMessageId).toBe(kept.id);
    }
    expect((await seenBy(bob, conversationId)).unreadTotal).toBe(1);
    // Over the socket too.
    const b = await connectAs(app(), bob);
    const joined = await emitAck<{ ok: boolean; conversation: ConversationJson }>(b, 'join_conversation', { conversationId });
    expect(joined.ok).toBe(true);
    expect(JSON.stringify(joined)).not.toContain(secret);
    expect(joined.conversation.lastMessage?.id).toBe(kept.id);

    // The admin list still has it, content included.
    const admin = await adminList(asAdmin, { deleted: 'only' });
    expect(admin.body.messages).toEqual([expect.objectContaining({ id: doomed.id, content: `the ${secret} note`, deletedBy: alice })]);
  });

  test('a message deleted while newest never shows up as a conversation\'s lastMessage, even when all its messages are deleted', async () => {
    const { alice, bob } = await castWithAdmin();
    const m1 = await send(alice, bob, 'gone one');
    const m2 = await send(bob, alice, 'gone two');
    expect((await userDelete(alice, m1.id)).status).toBe(204);
    expect((await userDelete(bob, m2.id)).status).toBe(204);

    for (const user of [alice, bob]) {
      expect(await seenBy(user, m1.conversationId)).toEqual(view(null, 0));
      expect(await historyIds(user, m1.conversationId)).toEqual([]);
      expect(await searchIds(user, 'gone')).toEqual([]);
    }
  });
});
