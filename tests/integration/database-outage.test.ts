import { Client } from 'pg';
import { poolStats } from '../../src/db/sequelize-internals';
import { createUser } from '../helpers/factories';
import { capturingLogger } from '../helpers/log-capture';
import { type ClientSocket, connectAs, disconnectAll, emitAck } from '../helpers/sockets';
import { bearer, GENEROUS_RATES, startTestApp, type TestApp } from '../helpers/test-app';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-postgres';

/**
 * API.md, "When the database is away": a Duet on a PostgreSQL of this file's own, taken away in the
 * middle of sends (stopped, then frozen) and brought back, with no restart of Duet.
 */
const TIMEOUT_MS = 1500;
/** A frozen database is given up on when the timer fires; the answer still has to be written and read. */
const DELIVERY_SLACK_MS = 500;

let pg: ThrowawayPostgres;
let app: TestApp;
const { logger, entries: logs } = capturingLogger();

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  app = await startTestApp({
    databaseUrl: pg.url,
    migrate: true,
    databaseTimeoutMs: TIMEOUT_MS,
    // As in production, known users and pairs come from memory, so sends reach the writer.
    userCacheMs: 60_000,
    realtime: { presenceGraceMs: 100 },
    // Eight clients sending as fast as they can: fair use is not what this file is about.
    limits: { rates: GENEROUS_RATES, socketMaxPending: 10_000 },
    logger,
  });
}, 60_000);

afterAll(async () => {
  disconnectAll();
  try {
    await app?.close();
  } finally {
    await pg?.remove();
  }
});

type Door = 'rest' | 'socket';

interface Attempt {
  door: Door;
  clientMessageId: string;
  content: string;
  ms: number;
  messageId?: number;
  /** The error code, when it failed. */
  code?: string;
  status?: number;
}

/** One send over a door, timed; never throws for an error answer. */
async function send(door: Door, from: number, socket: ClientSocket, to: number, clientMessageId: string, content: string): Promise<Attempt> {
  const started = Date.now();
  const body = { receiverId: to, content, clientMessageId };
  if (door === 'rest') {
    const res = await app.api().post('/api/chat/send').set(bearer(from)).send(body);
    const ok = res.status === 201 || res.status === 200;
    return { door, clientMessageId, content, ms: Date.now() - started, status: res.status, ...(ok ? { messageId: res.body.message.id } : { code: res.body.error?.code }) };
  }
  const ack = await emitAck<{ ok: boolean; message?: { id: number }; error?: { code: string } }>(socket, 'send_message', body);
  return { door, clientMessageId, content, ms: Date.now() - started, ...(ack.ok ? { messageId: ack.message!.id } : { code: ack.error!.code }) };
}

/** Resends every failed attempt with its clientMessageId; each must now succeed. */
async function retryFailed(attempts: Attempt[], from: number, socket: ClientSocket, to: number): Promise<Attempt[]> {
  const retried = await Promise.all(attempts.filter((a) => a.code).map((a) => send(a.door, from, socket, to, a.clientMessageId, a.content)));
  expect(retried.filter((a) => a.code)).toEqual([]);
  return retried;
}

/** Every clientMessageId of `attempts` is stored exactly once, and an acked one under the id its ack gave. */
async function expectStoredOnce(sender: number, attempts: Attempt[]): Promise<void> {
  const [rows] = await app.chat.sequelize.query('SELECT id, client_message_id FROM messages WHERE sender_id = :sender', {
    replacements: { sender },
  });
  const stored = new Map<string, number[]>();
  for (const row of rows as { id: string; client_message_id: string }[]) {
    stored.set(row.client_message_id, [...(stored.get(row.client_message_id) ?? []), Number(row.id)]);
  }
  for (const attempt of attempts) {
    expect({ clientMessageId: attempt.clientMessageId, ids: stored.get(attempt.clientMessageId) }).toEqual({
      clientMessageId: attempt.clientMessageId,
      ids: [expect.any(Number)],
    });
    if (attempt.messageId !== undefined) expect(stored.get(attempt.clientMessageId)).toEqual([attempt.messageId]);
  }
}

async function waitUntilReady(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await app.api().get('/ready');
    if (res.status === 200) {
      expect(res.body).toEqual({ status: 'ready', database: 'up', redis: 'off' });
      return;
    }
    if (Date.now() > deadline) throw new Error(`still not ready: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function expectUnavailableReadiness(maxMs: number): Promise<void> {
  const started = Date.now();
  const ready = await app.api().get('/ready');
  expect(Date.now() - started).toBeLessThan(maxMs);
  expect(ready.status).toBe(503);
  expect(ready.body).toEqual({ status: 'unavailable', database: 'down', redis: 'off' });
  const health = await app.api().get('/health');
  expect(health.status).toBe(200);
}

test('an idle connection that the server ends is dropped quietly, and the next request gets a fresh one', async () => {
  const sequelize = app.chat.sequelize;
  const [zoe, yan] = [await createUser(sequelize, 'Zoe'), await createUser(sequelize, 'Yan')];
  const socket = await connectAs(app, zoe);
  expect((await send('rest', zoe, socket, yan, 'idle-1', 'hello')).code).toBeUndefined();
  expect(poolStats(sequelize).available).toBeGreaterThan(0);

  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      'SELECT count(pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    expect(rows[0].ended).toBeGreaterThan(0);
  } finally {
    await admin.end();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));

  expect((await send('rest', zoe, socket, yan, 'idle-2', 'again')).code).toBeUndefined();
  expect((await send('socket', zoe, socket, yan, 'idle-3', 'and again')).code).toBeUndefined();
});

test('a database stopped in the middle of sends: UNAVAILABLE at once, then service resumes and nothing acked is lost', async () => {
  const sequelize = app.chat.sequelize;
  const [alice, bob, carol] = [await createUser(sequelize, 'Alice'), await createUser(sequelize, 'Bob'), await createUser(sequelize, 'Carol')];
  const aliceSocket = await connectAs(app, alice);
  const bobSocket = await connectAs(app, bob);
  const socketId = aliceSocket.id;
  const warmUp = await send('rest', alice, aliceSocket, bob, 'warm-up', 'hello');
  expect(warmUp.code).toBeUndefined();

  // Four clients per door send one message after another; a failed one waits a little, as a client would.
  const attempts: Attempt[] = [];
  let sending = true;
  const client = async (door: Door, n: number) => {
    for (let i = 0; sending; i++) {
      const attempt = await send(door, alice, aliceSocket, bob, `${door}-${n}-${i}`, `message ${i} of ${door} client ${n}`);
      attempts.push(attempt);
      if (attempt.code) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const clients = [0, 1, 2, 3].flatMap((n) => [client('rest', n), client('socket', n)]);
  const acked = () => attempts.filter((a) => !a.code).length;
  try {
    while (acked() < 40) await new Promise((resolve) => setTimeout(resolve, 20));
    await pg.stop();
    const stoppedAt = attempts.length;
    while (attempts.length < stoppedAt + 40) await new Promise((resolve) => setTimeout(resolve, 20));

    // Away: the operations endpoints say so, sockets stay, a new connection is refused as UNAVAILABLE.
    await expectUnavailableReadiness(TIMEOUT_MS);
    expect(aliceSocket.connected && bobSocket.connected).toBe(true);
    const refusedAt = Date.now();
    await expect(connectAs(app, carol)).rejects.toMatchObject({ data: { code: 'UNAVAILABLE' } });
    expect(Date.now() - refusedAt).toBeLessThan(TIMEOUT_MS);
    // Bob leaves while it is away: his presence cannot be written, which must not bring anything down.
    bobSocket.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    sending = false;
    await Promise.all(clients);
  }
  const failed = attempts.filter((a) => a.code);
  expect(failed.length).toBeGreaterThanOrEqual(40);
  expect(new Set(failed.map((a) => a.code))).toEqual(new Set(['UNAVAILABLE']));
  expect(failed.filter((a) => a.door === 'rest').every((a) => a.status === 503)).toBe(true);
  expect(Math.max(...failed.map((a) => a.ms))).toBeLessThan(TIMEOUT_MS);
  // Each kind of failure is logged once, not once per failed request.
  const kinds = logs.filter((entry) => entry.level === 'error' && entry.repeats === undefined).map((e) => `${e.message} ${firstLine(e.err)}`);
  expect(kinds.length).toBeLessThan(failed.length / 4);
  expect(kinds).toEqual([...new Set(kinds)]);

  // Back, with no restart of Duet: the same socket sends again, and every failed send is retried.
  await pg.start();
  await waitUntilReady();
  expect(aliceSocket.id).toBe(socketId);
  const after = [
    await send('socket', alice, aliceSocket, bob, 'after-socket', 'back'),
    await send('rest', alice, aliceSocket, bob, 'after-rest', 'back'),
  ];
  expect(after.map((a) => a.code)).toEqual([undefined, undefined]);
  const retried = await retryFailed(attempts, alice, aliceSocket, bob);
  await expectStoredOnce(alice, [warmUp, ...attempts.filter((a) => !a.code), ...retried, ...after]);
  const [[{ total }]] = (await sequelize.query('SELECT count(*)::int AS total FROM messages WHERE sender_id = :alice', {
    replacements: { alice },
  })) as unknown as [[{ total: number }]];
  expect(total).toBe(1 + attempts.length + after.length);
}, 60_000);

test('a database that hangs: every request answers UNAVAILABLE within the timeout, probes do not pile up, and it resumes', async () => {
  await pg.start(); // in case the test above stopped short
  await waitUntilReady();
  const sequelize = app.chat.sequelize;
  const [dave, erin] = [await createUser(sequelize, 'Dave'), await createUser(sequelize, 'Erin')];
  const daveSocket = await connectAs(app, dave);
  const warmUp = await send('rest', dave, daveSocket, erin, 'hang-warm-up', 'hello');
  const { body: opened } = await app.api().get('/api/chat/conversations').set(bearer(erin));
  const conversationId = opened.conversations[0].id as number;

  // Idle connections in the pool, for the paths below that must not wait on one forever.
  await Promise.all(Array.from({ length: 4 }, () => sequelize.query('SELECT pg_sleep(0.05)')));
  pg.suspend();
  try {
    // The last probe's answer ("up") is reused for a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Fifty load-balancer probes at once share one check: at most one pool connection is theirs.
    const probes = Array.from({ length: 50 }, () => app.api().get('/ready'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pool = poolStats(sequelize);
    expect(pool.using + pool.waiting).toBeLessThanOrEqual(1);
    const answered = await Promise.all(probes);
    expect(answered.map((r) => r.status)).toEqual(Array(50).fill(503));

    // The paths on Sequelize's models, on the pool's idle connections: a delete, the admin's list and restore.
    const startedModelPaths = Date.now();
    const timedModelPath = <T>(work: Promise<T>) => work.then((result) => ({ result, ms: Date.now() - startedModelPaths }));
    const [deletion, adminList, restore] = await Promise.all([
      timedModelPath(app.api().delete(`/api/chat/messages/${warmUp.messageId}`).set(bearer(dave))),
      timedModelPath(app.api().get('/api/chat/admin/messages').set(bearer(erin, { admin: true }))),
      timedModelPath(app.api().post(`/api/chat/admin/messages/${warmUp.messageId}/restore`).set(bearer(erin, { admin: true }))),
    ]);

    // Sends in batches over both doors, a history read and a receipt (a transaction), all at once.
    const started = Date.now();
    const timed = <T>(work: Promise<T>) => work.then((result) => ({ result, ms: Date.now() - started }));
    const [attempts, history, receipt] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, (_, i) => send(i % 3 ? 'rest' : 'socket', dave, daveSocket, erin, `hang-${i}`, `frozen ${i}`))),
      timed(app.api().get(`/api/chat/conversations/${conversationId}/messages`).set(bearer(erin))),
      timed(emitAck<{ ok: boolean; error?: { code: string } }>(daveSocket, 'mark_as_read', { conversationId })),
    ]);

    expect(attempts.map((a) => a.code)).toEqual(Array(30).fill('UNAVAILABLE'));
    expect(history.result.status).toBe(503);
    expect(receipt.result.error?.code).toBe('UNAVAILABLE');
    expect([deletion, adminList, restore].map(({ result }) => [result.status, result.body.error?.code])).toEqual(Array(3).fill([503, 'UNAVAILABLE']));
    const modelPaths = [['delete', deletion.ms], ['admin list', adminList.ms], ['admin restore', restore.ms]];
    const late = [...attempts.map((a) => [a.clientMessageId, a.ms]), ['history', history.ms], ['receipt', receipt.ms], ...modelPaths].filter(
      ([, ms]) => Number(ms) >= TIMEOUT_MS + DELIVERY_SLACK_MS,
    );
    expect(late).toEqual([]);
    await expectUnavailableReadiness(TIMEOUT_MS + DELIVERY_SLACK_MS);
    expect(daveSocket.connected).toBe(true);

    pg.resume();
    await waitUntilReady();
    const retried = await retryFailed(attempts, dave, daveSocket, erin);
    // A send answered UNAVAILABLE may still have committed once the server woke; its retry finds it.
    await expectStoredOnce(dave, [warmUp, ...retried]);
  } finally {
    pg.resume();
  }
}, 60_000);

const firstLine = (value: unknown) => String(value).split('\n', 1)[0];
