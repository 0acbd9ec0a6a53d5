import fc, { type Arbitrary } from 'fast-check';
import { io as connectClient } from 'socket.io-client';
import type { Sent } from '../helpers/contract';
import {
  ackProblem,
  envelopeProblem,
  errorRecordingLogger,
  fuzzSeed,
  heapAfterGc,
  shortReport,
  structuredField,
  watchUnhandledRejections,
} from '../helpers/fuzz-checks';
import { events, type SocketCase, socketCases } from '../helpers/fuzz-events';
import { asParsed, hostileKey, hostileToken, hostileValue, objectOf } from '../helpers/fuzz-values';
import { buildWorld, type FuzzWorld, namesStrangers } from '../helpers/fuzz-world';
import { type ClientSocket, connectAs, disconnectAll, emitAck, nextEvent } from '../helpers/sockets';
import { GENEROUS_RATES, TEST_JWT_SECRET, tokenFor, useStartedApp } from '../helpers/test-app';

/**
 * Property-based fuzzing of every client → server Socket.IO event (issue 13): generated payloads,
 * with and without an ack, with extra arguments, binary parts and unknown event names, on a real
 * server, PostgreSQL and socket.io-client. Every ack comes within a bound and is `{ ok: true }` or
 * the contract's error envelope (never INTERNAL); every `error` event too; the socket stays
 * connected, and the server still serves and holds its memory afterwards.
 * FUZZ_SEED=<n> replays a run (the seed is printed at the start).
 */

/** Events per run: a sequential warm-up (before the heap baseline), then concurrent batches. */
const WARM_UP = 300;
const BATCH = 8;
const BATCHES = 650;
/** Below the server's maxPayloadBytes (64 KiB): bigger packets close the connection by design (socket-robustness.test.ts). */
const MAX_PACKET_BYTES = 60_000;
const ACK_TIMEOUT_MS = 5000;

// Generous fair-use buckets, so that the fuzzer exercises validation rather than the limiter; a small
// recovery buffer, so that the heap check sees leaks rather than that buffer filling to its bound.
const logged = errorRecordingLogger();
const app = useStartedApp({
  logger: logged.logger,
  limits: { rates: GENEROUS_RATES },
  realtime: { recoveryMaxEvents: 100 },
});
const unhandled = watchUnhandledRejections();

let world: FuzzWorld;
/** Each event's fields that take one value (all but get_online_status's list). */
let scalarFields: Map<string, string[]>;
let socket: ClientSocket;
let partner: ClientSocket;
/** What is wrong with the `error` events the fuzzing socket received. */
const errorEventProblems: string[] = [];
let errorEvents = 0;

beforeAll(async () => {
  world = await buildWorld(app());
  scalarFields = new Map(events(world).map((spec) => [spec.event, Object.keys(spec.fields).filter((field) => field !== 'userIds')]));
  [socket, partner] = await Promise.all([connectAs(app(), world.alice), connectAs(app(), world.bob)]);
  socket.on('error', (event: unknown) => {
    errorEvents++;
    const { event: name, error } = (event ?? {}) as { event?: unknown; error?: unknown };
    const problem = typeof name !== 'string' ? 'no event name' : envelopeProblem(error);
    if (problem) errorEventProblems.push(`error event ${JSON.stringify(event).slice(0, 300)}: ${problem}`);
  });
});
afterAll(() => disconnectAll());

let sent = 0;

async function check(c: SocketCase): Promise<void> {
  sent++;
  const label = `${String(c.event)} (${c.args.length} argument(s), ${c.ack ? 'ack' : 'no ack'}) ${JSON.stringify(c.args).slice(0, 300)}`;
  if (c.ack) {
    const ack = await socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck(c.event as string, ...c.args)
      .catch((err: Error) => {
        throw new Error(`${label}: no ack (${err.message})`);
      });
    const problem = ackProblem(ack) ?? acceptedStructure(c, ack) ?? strangersThingServed(c, ack);
    if (problem) throw new Error(`${label}: ${problem}`);
  } else {
    socket.emit(c.event as string, ...c.args);
  }
  if (!socket.connected) throw new Error(`${label}: the socket was disconnected`);
  // An error event answers an earlier event without an ack, not necessarily this one.
  if (errorEventProblems.length) throw new Error(`after ${label}: ${errorEventProblems.join('; ')}`);
}

/** An ok ack for a payload whose scalar field held an array or an object, or whose user id list held one. */
function acceptedStructure(c: SocketCase, ack: unknown): string | undefined {
  if ((ack as { ok?: unknown }).ok !== true || typeof c.event !== 'string') return undefined;
  const [payload] = c.args;
  const field = structuredField(payload, scalarFields.get(c.event) ?? []);
  if (field) return `ok with an object or array in ${field}`;
  const { userIds } = (payload ?? {}) as { userIds?: unknown };
  if (c.event === 'get_online_status' && Array.isArray(userIds) && userIds.some((id) => id !== null && typeof id === 'object')) {
    return 'ok with an object or array among userIds';
  }
  return undefined;
}

/** An ok ack for an event that names a conversation, message or file of strangers (leaving a room is harmless). */
function strangersThingServed(c: SocketCase, ack: unknown): string | undefined {
  if ((ack as { ok?: unknown }).ok !== true || c.event === 'leave_conversation') return undefined;
  const { conversationId, messageId, attachmentId } = (c.args[0] ?? {}) as Record<string, unknown>;
  const { conversations, messages, attachments } = world.strangers;
  if (namesStrangers(conversations, conversationId) || namesStrangers(messages, messageId) || namesStrangers(attachments, attachmentId)) {
    return "ok for alice on strangers' conversation, message or file";
  }
  return undefined;
}

/** Runs `numRuns` batches of `size` events, each batch emitted at once on the one socket. */
async function fuzz(cases: Arbitrary<SocketCase>, numRuns: number, size: number, seed: number): Promise<void> {
  const batch = fc.array(cases, { minLength: size, maxLength: size });
  await fc.assert(
    fc.asyncProperty(batch, async (all) => {
      await Promise.all(all.map(check));
    }),
    { numRuns, seed, reporter: shortReport },
  );
}

test('every generated event is answered within a bound, with ok or the error envelope, never INTERNAL', async () => {
  const seed = fuzzSeed('Socket fuzzer');
  const all = socketCases(world, MAX_PACKET_BYTES);

  await fuzz(all, WARM_UP, 1, seed);
  const heapBefore = heapAfterGc();
  await fuzz(all, BATCHES, BATCH, seed + 1);
  // Events sent without an ack may still be in progress: a last acked event comes after them.
  expect(await emitAck(socket, 'get_online_status', { userIds: [world.bob] })).toMatchObject({ ok: true });
  const heapAfter = heapAfterGc();

  expect(sent).toBeGreaterThanOrEqual(WARM_UP + BATCHES * BATCH);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.info(`Socket fuzzer: ${sent} events, ${errorEvents} error events; heapUsed after GC ${mib(heapBefore)} → ${mib(heapAfter)} MiB`);
  expect(errorEventProblems).toEqual([]);
  // Loose: thousands of events must not leave their payloads behind.
  expect(heapAfter - heapBefore).toBeLessThan(32 * 2 ** 20);
  expect(unhandled).toEqual([]);
  expect(logged.errors).toEqual([]);

  // Still serving: health, and a send on the fuzzed socket that the partner receives.
  expect((await app().api().get('/health')).status).toBe(200);
  const received = nextEvent<Sent>(partner, 'new_message');
  expect(await emitAck(socket, 'send_message', { receiverId: world.bob, content: 'still here' })).toMatchObject({ ok: true });
  expect((await received).message.content).toBe('still here');
}, 180_000);

/** Handshakes per run: each opens a real connection. */
const HANDSHAKES = 400;

type HandshakeOutcome = { connected: true } | { error: Error & { data?: { code?: unknown } } };

/** The outcome of one handshake: connected, or refused with the middleware's error data. */
function handshake(auth: object, headers: Record<string, string>): Promise<HandshakeOutcome> {
  const client = connectClient(app().baseUrl, {
    auth,
    extraHeaders: headers,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: ACK_TIMEOUT_MS,
  });
  return new Promise((resolve) => {
    client.once('connect', () => {
      client.disconnect();
      resolve({ connected: true });
    });
    client.once('connect_error', (error) => {
      client.disconnect();
      resolve({ error });
    });
  });
}

test('every generated handshake connects or is refused with a known code, never INTERNAL', async () => {
  const seed = fuzzSeed('Handshake fuzzer');
  const hostile = hostileValue({ ids: world.ids, oversize: 2000 });
  const valid = tokenFor(world.alice);
  const token = fc.oneof(
    { weight: 1, arbitrary: fc.constant(valid) },
    { weight: 4, arbitrary: hostileToken(TEST_JWT_SECRET, [world.alice, world.admin, world.ids.at(-1)!], hostile) },
    { weight: 2, arbitrary: hostile.map(asParsed) },
  );
  const auth = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(token, objectOf(hostileKey, hostile.map(asParsed), 2)).map(([t, extra]) => ({ ...extra, token: t })) },
    { weight: 1, arbitrary: objectOf(hostileKey, hostile.map(asParsed), 3) },
  );
  // Only what an HTTP client can put in a header (Node's own client refuses the rest before sending),
  // within Node's header limit (past it the upgrade is refused before Socket.IO: fuzz-rest covers that).
  const headers = fc.option(
    token
      .filter((t): t is string => typeof t === 'string' && t.length < 8000 && /^[\x20-\x7e]*$/.test(t))
      .map((t) => ({ authorization: `Bearer ${t}` })),
    { nil: {} },
  );
  let tried = 0;
  await fc.assert(
    fc.asyncProperty(auth, headers, async (a, h) => {
      tried++;
      const outcome = await handshake(a, h);
      if ('connected' in outcome) return;
      if ((a as { token?: unknown }).token === valid) throw new Error(`handshake with a valid token refused: ${outcome.error.message}`);
      const { code } = outcome.error.data ?? {};
      const problem = envelopeProblem({ code, message: outcome.error.message });
      if (problem) throw new Error(`handshake ${JSON.stringify(a).slice(0, 300)}: refused with ${outcome.error.message} (${problem})`);
    }),
    { numRuns: HANDSHAKES, seed, reporter: shortReport },
  );
  expect(tried).toBeGreaterThanOrEqual(HANDSHAKES);
  expect(unhandled).toEqual([]);
  expect(await emitAck(socket, 'get_online_status', { userIds: [world.bob] })).toMatchObject({ ok: true });
}, 60_000);
