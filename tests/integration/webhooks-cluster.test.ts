import request from 'supertest';
import { useCluster, withRedis } from '../helpers/cluster';
import { createCast, sendMessage } from '../helpers/factories';
import { freePort } from '../helpers/free-port';
import { startNodeProcess, useNodeBuild } from '../helpers/node-process';
import { connectAs } from '../helpers/sockets';
import { bearer, type TestApp, useTestApp } from '../helpers/test-app';
import { newWebhookSecret, type ReceivedWebhook, WebhookReceiver } from '../helpers/webhook-receiver';
import { eventually } from '../helpers/waiting';

/** Webhooks on several nodes (API.md, "Several nodes" and "Webhooks to the host"). */

const createdFor = (messageId: number) => (r: ReceivedWebhook) => r.body.data.message?.id === messageId;

const waitFor = <T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000) => eventually(check, 'the awaited webhook state', ms) as Promise<T>;

describe('receiverOnline on two nodes', () => {
  const receiver = new WebhookReceiver(newWebhookSecret());
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());
  beforeEach(() => receiver.reset());
  const cluster = useCluster(2, {
    get webhooks() {
      return { url: receiver.url, secret: receiver.secret, retryBaseMs: 50 };
    },
    realtime: { presenceGraceMs: 5000 },
  });

  test('is true when the receiver is connected to the other node only, and false in their grace period or when never connected', async () => {
    const [nodeA, nodeB] = cluster().nodes as [TestApp, TestApp];
    const { alice, bob, stranger } = await createCast(nodeA.chat.sequelize);
    const bobOnB = await connectAs(nodeB, bob);
    const across = await sendMessage(nodeA, alice, bob, 'across nodes');
    expect((await receiver.deliveredEvent('message.created', createdFor(across.message.id))).body.data.receiverOnline).toBe(true);
    const toStranger = await sendMessage(nodeA, alice, stranger, 'never connected');
    expect((await receiver.deliveredEvent('message.created', createdFor(toStranger.message.id))).body.data.receiverOnline).toBe(false);

    bobOnB.disconnect();
    // Redis keeps only `on` for bob: no socket anywhere, still online for his partners (grace).
    const userKey = `${cluster().keyPrefix}presence:user:${bob}`;
    await waitFor(() => withRedis(async (redis) => (await redis.hkeys(userKey)).join() === 'on'));
    const inGrace = await sendMessage(nodeA, alice, bob, 'in the grace period');
    expect((await receiver.deliveredEvent('message.created', createdFor(inGrace.message.id))).body.data.receiverOnline).toBe(false);
    expect(receiver.rejected).toEqual([]);
  });
});

describe('a node killed between commit and delivery', () => {
  const app = useTestApp();
  const build = useNodeBuild();

  test('the event is still delivered, by a node started afterwards', async () => {
    const t = app();
    const { alice, bob } = await createCast(t.chat.sequelize);
    const port = await freePort();
    const secret = newWebhookSecret();
    // Receiver down: the first node can only fail its attempts until it dies.
    const env = { WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`, WEBHOOK_SECRET: secret, WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_HOURS: '1' };
    const first = await startNodeProcess(build(), `duet-test-wh-${process.pid}-a:`, env);
    const sent = await request(first.baseUrl).post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'survives a crash' });
    expect(sent.status).toBe(201);
    const [rows] = await t.chat.sequelize.query("SELECT status FROM webhook_deliveries WHERE type = 'message.created'");
    expect(rows).toEqual([{ status: 'pending' }]);

    first.process.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const receiver = await new WebhookReceiver(secret).start(port);
    try {
      await startNodeProcess(build(), `duet-test-wh-${process.pid}-b:`, env);
      // A lease the dead node held runs out first (about 15 s at most).
      const delivered = await receiver.deliveredEvent('message.created', createdFor(sent.body.message.id), 30_000);
      expect(delivered.body.data.message).toEqual(sent.body.message);
      expect(receiver.rejected).toEqual([]);
      // The node records the outcome just after the receiver's answer.
      await waitFor(async () => {
        const [after] = await t.chat.sequelize.query("SELECT 1 FROM webhook_deliveries WHERE type = 'message.created' AND status = 'delivered'");
        return after.length === 1;
      });
    } finally {
      await receiver.close();
    }
  }, 90_000);
});
