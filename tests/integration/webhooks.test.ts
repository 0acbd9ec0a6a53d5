import { createCast, createUser, sendMessage } from '../helpers/factories';
import { freePort } from '../helpers/free-port';
import { connectAs, emitAck, nextEvent } from '../helpers/sockets';
import { bearer, GENEROUS_RATES, startTestApp, type TestApp, useTestApp } from '../helpers/test-app';
import { newWebhookSecret, type ReceivedWebhook, WebhookReceiver } from '../helpers/webhook-receiver';
import { eventually } from '../helpers/waiting';

/**
 * Webhooks to the host (API.md, "Webhooks to the host"), against a real HTTP receiver in the test
 * process that verifies every signature with the Standard Webhooks library, as a host would.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const waitFor = <T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000) => eventually(check, 'the awaited webhook state', ms) as Promise<T>;

const rowsIn = async (t: TestApp, sql: string, bind: unknown[] = []) =>
  (await t.chat.sequelize.query(sql, { bind }))[0] as Record<string, unknown>[];

const createdFor = (messageId: number) => (r: ReceivedWebhook) => r.body.data.message?.id === messageId;

/** Waits until Duet has recorded these deliveries as delivered (it does so just after the receiver's answer). */
async function recordedDelivered(t: TestApp, asAdmin: Record<string, string>, ids: string[]): Promise<void> {
  await waitFor(async () => {
    const res = await t.api().get('/api/chat/admin/webhooks?status=delivered&limit=100').set(asAdmin);
    const done = new Set(res.body.deliveries.map((d: { id: string }) => d.id));
    return ids.every((id) => done.has(id));
  });
}

async function adminOf(t: TestApp) {
  return bearer(await createUser(t.chat.sequelize, 'Admin'), { admin: true });
}

describe('webhooks to the host', () => {
  const receiver = new WebhookReceiver(newWebhookSecret());
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());
  beforeEach(() => receiver.reset());
  const app = useTestApp({
    get webhooks() {
      return { url: receiver.url, secret: receiver.secret, retryBaseMs: 50 };
    },
    realtime: { presenceGraceMs: 5000 },
    limits: { rates: GENEROUS_RATES },
  });

  test('message.created is signed and carries the message, the conversation as the receiver sees it, and receiverOnline false', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello hooks');
    const got = await receiver.deliveredEvent('message.created', createdFor(sent.message.id));
    const asBob = await app().api().get(`/api/chat/conversations/${sent.message.conversationId}`).set(bearer(bob));
    expect(receiver.rejected).toEqual([]);
    expect(got.id).toMatch(UUID);
    expect(Math.abs(Number(got.timestamp) - Date.now() / 1000)).toBeLessThan(30);
    expect(got.signature).toMatch(/^v1,/);
    expect(got.body).toEqual({
      type: 'message.created',
      timestamp: sent.message.createdAt,
      data: { message: sent.message, conversation: asBob.body.conversation, receiverOnline: false },
    });
    expect(got.body.data.conversation).toMatchObject({ unreadCount: 1, participant: { id: alice, name: 'Alice' } });
  });

  test('receiverOnline is true while the receiver has a socket, and false in the grace period after it left', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await sendMessage(app(), alice, bob, 'opening');
    const bobSocket = await connectAs(app(), bob);
    const connected = await sendMessage(app(), alice, bob, 'while connected');
    expect((await receiver.deliveredEvent('message.created', createdFor(connected.message.id))).body.data.receiverOnline).toBe(true);

    const aliceSocket = await connectAs(app(), alice);
    bobSocket.disconnect();
    await waitFor(() => app().realtime.io.of('/').sockets.size === 1);
    // Bob is still shown online to his partners: the grace period runs.
    const status = await emitAck<{ statuses: { userId: number; online: boolean }[] }>(aliceSocket, 'get_online_status', { userIds: [bob] });
    expect(status.statuses).toEqual([expect.objectContaining({ userId: bob, online: true })]);
    const inGrace = await sendMessage(app(), alice, bob, 'in the grace period');
    expect((await receiver.deliveredEvent('message.created', createdFor(inGrace.message.id))).body.data.receiverOnline).toBe(false);
  });

  test('message.deleted, messages.read, message.restored and message.purged carry the contract\'s data', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const asAdmin = await adminOf(t);
    const first = await sendMessage(t, alice, bob, 'to be read');
    const second = await sendMessage(t, alice, bob, 'to be deleted');
    const { conversationId } = first.message;

    const aliceSocket = await connectAs(t, alice);
    const readEvent = nextEvent(aliceSocket, 'messages_read');
    expect((await t.api().post(`/api/chat/conversations/${conversationId}/read`).set(bearer(bob)).send({ upToMessageId: first.message.id })).status).toBe(200);
    const read = await receiver.deliveredEvent('messages.read');
    expect(read.body.data).toEqual(await readEvent);
    expect(read.body.data).toMatchObject({ conversationId, readerId: bob, upToMessageId: first.message.id, count: 1 });
    expect(read.body.timestamp).toBe(read.body.data.readAt);

    expect((await t.api().delete(`/api/chat/messages/${second.message.id}`).set(bearer(alice))).status).toBe(204);
    const deleted = await receiver.deliveredEvent('message.deleted');
    expect(deleted.body.data).toEqual({ messageId: second.message.id, conversationId, deletedBy: alice });

    const restored = await t.api().post(`/api/chat/admin/messages/${second.message.id}/restore`).set(asAdmin).send({});
    expect(restored.status).toBe(200);
    const restoredEvent = await receiver.deliveredEvent('message.restored');
    const { deletedAt: _deletedAt, deletedBy: _deletedBy, ...restoredMessage } = restored.body.message;
    expect(restoredEvent.body.data).toEqual({ message: restoredMessage });
    expect(Object.keys(restoredEvent.body.data.message).sort()).toEqual(Object.keys(second.message).sort());

    expect((await t.api().delete(`/api/chat/admin/messages/${second.message.id}`).set(asAdmin).send({})).status).toBe(204);
    const purged = await receiver.deliveredEvent('message.purged');
    expect(purged.body.data).toEqual({ messageId: second.message.id, conversationId });
    expect(new Set([read.id, deleted.id, restoredEvent.id, purged.id]).size).toBe(4);
    expect(receiver.rejected).toEqual([]);
  });

  test('a purge erases the message\'s text from the outbox too', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const secret = 'wombat-erasure-4410';
    const doomed = await sendMessage(t, alice, bob, `my ${secret}`);
    await receiver.deliveredEvent('message.created', createdFor(doomed.message.id));
    expect(await rowsIn(t, 'SELECT 1 FROM webhook_deliveries x WHERE x::text LIKE $1', [`%${secret}%`])).toHaveLength(1);
    expect((await t.api().delete(`/api/chat/admin/messages/${doomed.message.id}`).set(await adminOf(t)).send({})).status).toBe(204);
    await receiver.deliveredEvent('message.purged');
    expect(await rowsIn(t, 'SELECT 1 FROM webhook_deliveries x WHERE x::text LIKE $1', [`%${secret}%`])).toHaveLength(0);
  });

  test('a receiver that fails the first attempts gets the event once more each time, under the same webhook-id, until it answers 2xx', async () => {
    receiver.script = (attempt) => (attempt <= 2 ? 500 : 204);
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const sent = await sendMessage(t, alice, bob, 'third time lucky');
    const delivered = await receiver.deliveredEvent('message.created', createdFor(sent.message.id));
    const attempts = receiver.received.filter((r) => r.id === delivered.id);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(attempts.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(receiver.rejected).toEqual([]);
    const asAdmin = await adminOf(t);
    // Duet records the outcome just after the receiver's answer.
    const listed = await waitFor(async () => {
      const res = await t.api().get('/api/chat/admin/webhooks?status=delivered').set(asAdmin);
      return res.body.deliveries.length > 0 && res;
    });
    expect(listed.body.deliveries).toEqual([
      { id: delivered.id, type: 'message.created', status: 'delivered', attempts: 3, lastError: 'HTTP 500', createdAt: sent.message.createdAt, deliveredAt: expect.any(String) },
    ]);
  });

  test('two workers on one database never deliver one event twice', async () => {
    // A slow receiver: attempts overlap with the other worker's claims.
    receiver.script = () => new Promise((resolve) => setTimeout(() => resolve(204), 30));
    const second = await startTestApp({ webhooks: { url: receiver.url, secret: receiver.secret, retryBaseMs: 50 }, limits: { rates: GENEROUS_RATES } });
    try {
      const t = app();
      const { alice, bob } = await createCast(t.chat.sequelize);
      const sends = Array.from({ length: 80 }, (_, i) => sendMessage(i % 2 ? second : t, alice, bob, `race ${i}`));
      const ids = new Set((await Promise.all(sends)).map((s) => s.message.id));
      await receiver.until(() => receiver.delivered.filter((r) => ids.has(r.body.data.message?.id)).length >= ids.size);
      await waitFor(async () => (await rowsIn(t, "SELECT 1 FROM webhook_deliveries WHERE status = 'pending'")).length === 0);
      const seen = receiver.received.filter((r) => ids.has(r.body.data.message?.id));
      expect(seen).toHaveLength(ids.size);
      expect(new Set(seen.map((r) => r.id)).size).toBe(ids.size);
      expect((await rowsIn(t, 'SELECT max(attempts) AS n FROM webhook_deliveries'))[0]).toEqual({ n: 1 });
    } finally {
      await second.close();
    }
  });

  test('the admin list pages newest first by delivery id, filters by status, and validates its input', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const asAdmin = await adminOf(t);
    const messages: { id: number }[] = [];
    for (const content of ['one', 'two', 'three']) messages.push((await sendMessage(t, alice, bob, content)).message);
    const delivered = await receiver.until(() => {
      const found = messages.map((m) => receiver.delivered.find(createdFor(m.id)));
      return found.every(Boolean) && (found as ReceivedWebhook[]);
    });
    const newestFirst = delivered.map((r) => r.id).reverse();
    await recordedDelivered(t, asAdmin, newestFirst);
    const page = async (query: string) => t.api().get(`/api/chat/admin/webhooks${query}`).set(asAdmin);
    expect((await page('?limit=2')).body.deliveries.map((d: { id: string }) => d.id)).toEqual(newestFirst.slice(0, 2));
    expect((await page(`?before=${newestFirst[1]}`)).body.deliveries.map((d: { id: string }) => d.id)).toEqual(newestFirst.slice(2));
    expect((await page('?status=delivered')).body.deliveries).toHaveLength(3);
    expect((await page('?status=failed')).body.deliveries).toEqual([]);
    expect((await page('?before=00000000-0000-4000-8000-000000000000')).body.deliveries).toEqual([]);
    for (const bad of ['?status=lost', '?limit=0', '?before=12', '?status=failed&status=pending']) {
      const res = await page(bad);
      expect({ bad, status: res.status, code: res.body.error?.code }).toEqual({ bad, status: 400, code: 'VALIDATION_FAILED' });
    }
    expect((await t.api().get('/api/chat/admin/webhooks').set(bearer(alice))).status).toBe(403);
    expect((await t.api().post(`/api/chat/admin/webhooks/${newestFirst[0]}/retry`).set(bearer(alice))).status).toBe(403);
  });

  test('an admin retry of a delivered event sends it again under the same webhook-id; an unknown id is NOT_FOUND', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const asAdmin = await adminOf(t);
    const sent = await sendMessage(t, alice, bob, 'again please');
    const first = await receiver.deliveredEvent('message.created', createdFor(sent.message.id));
    await recordedDelivered(t, asAdmin, [first.id]);
    const retried = await t.api().post(`/api/chat/admin/webhooks/${first.id}/retry`).set(asAdmin);
    expect(retried.status).toBe(200);
    expect(retried.body.delivery).toMatchObject({ id: first.id, status: 'pending', attempts: 0, deliveredAt: null });
    await receiver.until(() => receiver.delivered.filter((r) => r.id === first.id).length === 2);
    expect(receiver.delivered.filter((r) => r.id === first.id).map((r) => r.body)).toEqual([first.body, first.body]);

    const unknown = await t.api().post('/api/chat/admin/webhooks/00000000-0000-4000-8000-000000000000/retry').set(asAdmin);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const malformed = await t.api().post('/api/chat/admin/webhooks/42/retry').set(asAdmin);
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('a receiver that is down', () => {
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
  });
  const app = useTestApp({
    get webhooks() {
      // A retry window of about 1.8 s, retries from 100 ms.
      return { url: `http://127.0.0.1:${port}/hooks`, secret: SECRET, retryBaseMs: 100, retryHours: 0.0005 };
    },
  });
  const SECRET = newWebhookSecret();

  test('retrying a pending delivery is CONFLICT', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    await sendMessage(t, alice, bob, 'nobody listens');
    const [row] = await rowsIn(t, 'SELECT id, status FROM webhook_deliveries');
    expect(row).toEqual({ id: expect.stringMatching(UUID), status: 'pending' });
    const res = await t.api().post(`/api/chat/admin/webhooks/${row!.id}/retry`).set(await adminOf(t));
    expect([res.status, res.body.error.code]).toEqual([409, 'CONFLICT']);
  });

  test('past the retry window the event is failed; an admin retry delivers it under the same webhook-id once the receiver is back', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const asAdmin = await adminOf(t);
    const sent = await sendMessage(t, alice, bob, 'while the host was down');
    const failed = await waitFor(async () => {
      const res = await t.api().get('/api/chat/admin/webhooks?status=failed').set(asAdmin);
      return res.body.deliveries[0];
    });
    expect(failed).toMatchObject({ type: 'message.created', status: 'failed', lastError: 'ECONNREFUSED', deliveredAt: null });
    expect(failed.attempts).toBeGreaterThanOrEqual(3);
    const failedMetric = await t.chat.metrics.registry.getSingleMetricAsString('duet_webhooks_failed_total');
    expect(failedMetric).toMatch(/duet_webhooks_failed_total 1$/m);

    const receiver = await new WebhookReceiver(SECRET).start(port);
    try {
      expect((await t.api().post(`/api/chat/admin/webhooks/${failed.id}/retry`).set(asAdmin)).status).toBe(200);
      const delivered = await receiver.deliveredEvent('message.created');
      expect(delivered.id).toBe(failed.id);
      expect(delivered.body.data.message).toEqual(sent.message);
      // Duet records the outcome just after the receiver's answer.
      const row = await waitFor(async () => (await t.api().get('/api/chat/admin/webhooks?status=delivered').set(asAdmin)).body.deliveries[0]);
      expect(row).toMatchObject({ id: failed.id, status: 'delivered', attempts: 1 });
    } finally {
      await receiver.close();
    }
  });
});

describe('webhooks off', () => {
  const app = useTestApp();

  test('nothing is queued, whatever happens', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const asAdmin = await adminOf(t);
    const sent = await sendMessage(t, alice, bob, 'quiet');
    await t.api().post(`/api/chat/conversations/${sent.message.conversationId}/read`).set(bearer(bob)).send({});
    await t.api().delete(`/api/chat/messages/${sent.message.id}`).set(bearer(alice));
    await t.api().post(`/api/chat/admin/messages/${sent.message.id}/restore`).set(asAdmin).send({});
    await t.api().delete(`/api/chat/admin/messages/${sent.message.id}`).set(asAdmin).send({});
    expect(await rowsIn(t, 'SELECT count(*)::int AS n FROM webhook_deliveries')).toEqual([{ n: 0 }]);
    expect((await t.api().get('/api/chat/admin/webhooks').set(asAdmin)).body).toEqual({ deliveries: [] });
  });
});
