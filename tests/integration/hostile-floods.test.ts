import http from 'node:http';
import { poolStats } from '../../src/db/sequelize-internals';
import type { ErrorBody } from '../../src/shared/errors';
import { createCast, createUser, sendMessage } from '../helpers/factories';
import { type ClientSocket, connectAs, emitAck } from '../helpers/sockets';
import { bearer, tokenFor, useAppPerTest } from '../helpers/test-app';

/**
 * API.md "Fair use", its promise: one user sending any mix of events and requests as fast as the
 * network allows never makes another user's request fail, and does not noticeably slow it. Each
 * test floods one class with the contract's default limits while a victim sends over REST and the
 * socket. The latency bound is loose (a second: starvation, not speed; speed is the benchmark's).
 */
const FLOOD_EVENTS = 2_000;
const VICTIM_SENDS = 16;
const VICTIM_BOUND_MS = 1_000;

type Ack = { ok: boolean; error?: ErrorBody };

interface FloodOutcome {
  /** The same sends with no flood, just before: what the machine itself allows right now. */
  quietWorstMs: number;
  victimWorstMs: number;
  victimErrors: string[];
  flooderRefusals: ErrorBody[];
  poolWaitingMax: number;
}

describe('a flooding user does not hurt another user', () => {
  // A new app per test: each flood starts from full buckets, the victim's included.
  const app = useAppPerTest();
  let alice: number;
  let bob: number;
  let mallory: number;
  let malloryConversation: number;
  let flooder: ClientSocket;
  let victimSocket: ClientSocket;

  beforeEach(async () => {
    ({ alice, bob, stranger: mallory } = await createCast(app().chat.sequelize));
    await sendMessage(app(), alice, bob, 'before the flood');
    malloryConversation = (await sendMessage(app(), bob, mallory, 'hi Mallory')).conversation.id;
    flooder = await connectAs(app(), mallory);
    victimSocket = await connectAs(app(), alice);
  });

  /** The victim's sends, alternating REST and socket; the worst latency and any errors. */
  async function victimSends(label: string): Promise<{ worstMs: number; errors: string[] }> {
    const errors: string[] = [];
    let worstMs = 0;
    for (let i = 0; i < VICTIM_SENDS; i++) {
      const started = performance.now();
      const content = `${label} ${i}`;
      if (i % 2 === 0) {
        const res = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content });
        if (res.status !== 201) errors.push(`REST ${res.status} ${JSON.stringify(res.body)}`);
      } else {
        const ack = await emitAck<Ack>(victimSocket, 'send_message', { receiverId: bob, content });
        if (!ack.ok) errors.push(`socket ${JSON.stringify(ack.error)}`);
      }
      worstMs = Math.max(worstMs, performance.now() - started);
    }
    return { worstMs, errors };
  }

  /** Runs the flood and, meanwhile, the victim's sends; returns what both saw. */
  async function underFlood(flood: () => Promise<ErrorBody[]>): Promise<FloodOutcome> {
    const quiet = await victimSends('quiet');
    // A request waits for the pool only when every connection is busy; one waiting while the pool
    // opens another connection (it keeps none idle for long) is not contention.
    let poolWaitingMax = 0;
    const poolMax = app().chat.sequelize.config.pool!.max;
    const sampler = setInterval(() => {
      const pool = poolStats(app().chat.sequelize);
      if (pool.size >= poolMax) poolWaitingMax = Math.max(poolWaitingMax, pool.waiting);
    }, 2);
    const flooding = flood();
    const victim = await victimSends('victim');
    const flooderRefusals = await flooding;
    clearInterval(sampler);
    return { quietWorstMs: quiet.worstMs, victimWorstMs: victim.worstMs, victimErrors: [...quiet.errors, ...victim.errors], flooderRefusals, poolWaitingMax };
  }

  /** FLOOD_EVENTS emits without waiting for any ack; resolves with the refusals once all are answered. */
  async function socketFlood(events: () => [string, unknown]): Promise<ErrorBody[]> {
    const acks = await Promise.all(
      Array.from({ length: FLOOD_EVENTS }, () => {
        const [event, payload] = events();
        return flooder.timeout(20_000).emitWithAck(event, payload) as Promise<Ack>;
      }),
    );
    return acks.filter((ack) => !ack.ok && ack.error?.code === 'RATE_LIMITED').map((ack) => ack.error!);
  }

  /** `count` requests over 32 keep-alive connections at once; resolves with the refusals. */
  async function restFlood(count: number, request: (i: number) => { method: string; path: string; body?: unknown }): Promise<ErrorBody[]> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const token = tokenFor(mallory);
    const refusals: ErrorBody[] = [];
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const { method, path, body } = request(i);
        return new Promise<void>((resolve, reject) => {
          const req = http.request(`${app().baseUrl}/api/chat${path}`, { method, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              if (res.statusCode === 429) refusals.push((JSON.parse(Buffer.concat(chunks).toString()) as { error: ErrorBody }).error);
              resolve();
            });
          });
          req.on('error', reject);
          req.end(body === undefined ? undefined : JSON.stringify(body));
        });
      }),
    );
    agent.destroy();
    return refusals;
  }

  function expectFairness(outcome: FloodOutcome, label: string): void {
    process.stdout.write(
      `flood ${label}: victim worst ${outcome.victimWorstMs.toFixed(1)} ms (${outcome.quietWorstMs.toFixed(1)} ms with no flood), flooder refused ${outcome.flooderRefusals.length}, requests waiting for a full pool, at most ${outcome.poolWaitingMax}\n`,
    );
    expect(outcome.victimErrors).toEqual([]);
    expect(outcome.victimWorstMs).toBeLessThan(VICTIM_BOUND_MS);
    expect(outcome.flooderRefusals.length).toBeGreaterThan(0);
    for (const refusal of outcome.flooderRefusals) expect(refusal.retryAfterMs).toEqual(expect.any(Number));
    expect(outcome.poolWaitingMax).toBe(0);
  }

  test('send: send_message as fast as the socket allows', async () => {
    let n = 0;
    expectFairness(await underFlood(() => socketFlood(() => ['send_message', { receiverId: bob, content: `spam ${n++}` }])), 'send');
  });

  test('conversation: first sends and POST /conversations to ever new ids', async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => createUser(app().chat.sequelize, `Target ${i}`)));
    let n = 0;
    const outcome = await underFlood(async () => [
      ...(await socketFlood(() => ['send_message', { receiverId: ids[n++ % ids.length] ?? 1_000_000 + n, content: 'hello stranger' }])),
      ...(await restFlood(500, (i) => ({ method: 'POST', path: '/conversations', body: { participantId: 2_000_000 + i } }))),
    ]);
    expectFairness(outcome, 'conversation');
  });

  test('receipt: mark_as_read and message_delivered without waiting for acks, and POST …/read over REST', async () => {
    let n = 0;
    const outcome = await underFlood(async () => {
      const [socketRefusals, restRefusals] = await Promise.all([
        socketFlood(() => [n++ % 2 ? 'mark_as_read' : 'message_delivered', { conversationId: malloryConversation, upToMessageId: 1_000 }]),
        restFlood(1_000, () => ({ method: 'POST', path: `/conversations/${malloryConversation}/read`, body: {} })),
      ]);
      return [...socketRefusals, ...restRefusals];
    });
    expectFairness(outcome, 'receipt');
  });

  test('typing: typing and stop_typing, and the partner gets a bounded number of user_typing', async () => {
    let n = 0;
    const bobSocket = await connectAs(app(), bob);
    let typingEvents = 0;
    bobSocket.on('user_typing', () => typingEvents++);
    expectFairness(await underFlood(() => socketFlood(() => [n++ % 2 ? 'stop_typing' : 'typing', { conversationId: malloryConversation }])), 'typing');
    // The typing bucket (burst 20) bounds the fan-out: a free channel would have relayed 2,000.
    expect(typingEvents).toBeLessThanOrEqual(25);
  });

  test('read: get_online_status with 100 ids, join_conversation, and GETs over REST', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    let n = 0;
    const outcome = await underFlood(async () => {
      const [socketRefusals, restRefusals] = await Promise.all([
        socketFlood(() => (n++ % 2 ? ['get_online_status', { userIds: ids }] : ['join_conversation', { conversationId: malloryConversation }])),
        restFlood(1_000, (i) => ({ method: 'GET', path: i % 2 ? '/conversations' : `/conversations/${malloryConversation}/messages?limit=100` })),
      ]);
      return [...socketRefusals, ...restRefusals];
    });
    expectFairness(outcome, 'read');
  });

  test('upload: parallel uploads', async () => {
    const outcome = await underFlood(async () => {
      const refusals: ErrorBody[] = [];
      const token = tokenFor(mallory);
      await Promise.all(
        Array.from({ length: 60 }, async () => {
          const res = await app().api().post('/api/chat/attachments').set({ authorization: `Bearer ${token}` }).attach('file', Buffer.alloc(64 * 1024, 'a'), 'spam.txt');
          if (res.status === 429) refusals.push(res.body.error);
        }),
      );
      return refusals;
    });
    expectFairness(outcome, 'upload');
  });
});
