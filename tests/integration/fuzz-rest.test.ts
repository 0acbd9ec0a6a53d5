import http from 'node:http';
import fc, { type Arbitrary } from 'fast-check';
import {
  errorRecordingLogger,
  fuzzSeed,
  heapAfterGc,
  restProblem,
  shortReport,
  structuredField,
  watchUnhandledRejections,
} from '../helpers/fuzz-checks';
import { closeAgent, type FuzzRequest, type FuzzResponse, send } from '../helpers/fuzz-http';
import { type FuzzTokens, fuzzTokens, restRequests, type Route, routes } from '../helpers/fuzz-routes';
import { buildWorld, type FuzzWorld, namesStrangers } from '../helpers/fuzz-world';
import { bearer, GENEROUS_RATES, useStartedApp } from '../helpers/test-app';

/**
 * Property-based fuzzing of every REST route under /api/chat (issue 13): generated paths, query
 * strings, JSON and multipart bodies, content types and tokens against the real server and
 * PostgreSQL. Every answer is a success or the contract's error envelope with its status; none is a
 * 5xx, none hangs, and the server still serves and holds its memory afterwards.
 * FUZZ_SEED=<n> replays a run (the seed is printed at the start).
 */

const MAX_UPLOAD_BYTES = 64 * 1024;
/** Requests per run: a sequential warm-up (before the heap baseline), then concurrent batches. */
const WARM_UP = 300;
const BATCH = 4;
const BATCHES = 1_300;

// Generous fair-use buckets, so that the fuzzer exercises validation rather than the limiter; a small
// recovery buffer, so that the heap check sees leaks rather than that buffer filling to its bound.
const logged = errorRecordingLogger();
const app = useStartedApp({
  logger: logged.logger,
  limits: { rates: GENEROUS_RATES, maxUploadBytes: MAX_UPLOAD_BYTES },
  realtime: { recoveryMaxEvents: 100 },
});
const unhandled = watchUnhandledRejections();

let world: FuzzWorld;
/** The route each request was generated for, by its name. */
let routeByName: Map<string, Route>;
let tokens: FuzzTokens;
beforeAll(async () => {
  world = await buildWorld(app());
  routeByName = new Map(routes(world).map((route) => [`${route.method} ${route.path}`, route]));
  tokens = fuzzTokens(world);
});
afterAll(() => closeAgent());

let sent = 0;

/** What a failure report says about a request: its head in short, the size of its body. */
function summarize(request: FuzzRequest): string {
  const path = request.path.length > 200 ? `${request.path.slice(0, 200)}… (${request.path.length} characters)` : request.path;
  return `${request.method} ${path} headers ${JSON.stringify(request.headers).slice(0, 300)} body ${request.body?.length ?? 0} bytes`;
}

/** The bytes of a request line and headers, as Node's parser counts them against http.maxHeaderSize. */
const headBytes = (request: FuzzRequest) =>
  Buffer.byteLength(`${request.method} ${request.path} HTTP/1.1\r\n`) +
  Object.entries(request.headers).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v) + 4, 64);

const isReset = (err: unknown) =>
  ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '') || (err as Error).message === 'socket hang up';

async function check(request: FuzzRequest): Promise<void> {
  sent++;
  let res: FuzzResponse;
  try {
    res = await send(app().baseUrl, request);
  } catch (err) {
    // Past the head limit Node answers while the client is still sending, then closes; the reset
    // may reach the client before the answer (malformed-input.test.ts checks that answer).
    if (headBytes(request) > http.maxHeaderSize && isReset(err)) return;
    throw new Error(`${summarize(request)}: ${(err as Error).message}`);
  }
  // OPTIONS is answered by Express itself with the route's methods.
  if (request.method === 'OPTIONS' && res.status < 300) return;
  const problem =
    restProblem(res.status, res.contentType, res.text) ?? acceptedStructure(request, res.status) ?? strangersThingServed(request, res.status);
  if (problem) throw new Error(`${summarize(request)}: ${problem}`);
}

/** A success for alice on a path, body or query that names a conversation, message or file of strangers. */
function strangersThingServed(request: FuzzRequest, status: number): string | undefined {
  if (status >= 300 || request.headers.Authorization !== tokens.alice || request.route.includes('/admin/')) return undefined;
  const { conversations, messages, attachments } = world.strangers;
  const [path = '', query = ''] = request.path.split('?');
  const [, , , kind, id] = path.split('/');
  let segment: string | undefined;
  try {
    segment = id === undefined ? undefined : decodeURIComponent(id);
  } catch {
    return undefined;
  }
  const things = { conversations, messages, attachments }[kind ?? ''];
  if (things && namesStrangers(things, segment)) return `status ${status} for alice on strangers' /${kind}/${segment}`;
  const searched = new URLSearchParams(query).getAll('conversationId');
  if (request.route === 'GET /search' && searched.some((v) => namesStrangers(conversations, v))) {
    return `status ${status} for alice searching strangers' conversation`;
  }
  let body: Record<string, unknown> | undefined;
  try {
    body = request.route === 'POST /send' && request.body ? JSON.parse(request.body.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
  if (namesStrangers(conversations, body?.conversationId) || namesStrangers(attachments, body?.attachmentId)) {
    return `status ${status} for alice sending into strangers' conversation or with their file`;
  }
  return undefined;
}

/** A success for a request whose scalar field held an array or an object (a repeated query parameter, JSON). */
function acceptedStructure(request: FuzzRequest, status: number): string | undefined {
  const route = routeByName.get(request.route);
  if (!route || status >= 300) return undefined;
  const params = new URLSearchParams(request.path.split('?')[1] ?? '');
  const repeated = Object.keys(route.query ?? {}).find((field) => params.getAll(field).length > 1);
  if (repeated) return `status ${status} for a repeated ${repeated} parameter`;
  let body: unknown;
  try {
    body = request.body && !request.headers['Content-Encoding'] ? JSON.parse(request.body.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
  const field = structuredField(body, Object.keys(route.body ?? {}));
  return field ? `status ${status} with an object or array in ${field}` : undefined;
}

/** Runs `numRuns` batches of `size` requests, each batch at once (races included). */
async function fuzz(requests: Arbitrary<FuzzRequest>, numRuns: number, size: number, seed: number): Promise<void> {
  const batch = fc.array(requests, { minLength: size, maxLength: size });
  await fc.assert(
    fc.asyncProperty(batch, async (all) => {
      await Promise.all(all.map(check));
    }),
    { numRuns, seed, reporter: shortReport },
  );
}

test('every generated request to every REST route is answered with a success or the error envelope, never a 5xx', async () => {
  const seed = fuzzSeed('REST fuzzer');
  const all = restRequests(world, tokens, MAX_UPLOAD_BYTES);

  await fuzz(all, WARM_UP, 1, seed);
  const heapBefore = heapAfterGc();
  await fuzz(all, BATCHES, BATCH, seed + 1);
  const heapAfter = heapAfterGc();

  expect(sent).toBeGreaterThanOrEqual(WARM_UP + BATCHES * BATCH);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.info(`REST fuzzer: ${sent} requests; heapUsed after GC ${mib(heapBefore)} → ${mib(heapAfter)} MiB`);
  // Loose: thousands of requests must not leave their payloads behind.
  expect(heapAfter - heapBefore).toBeLessThan(32 * 2 ** 20);
  expect(unhandled).toEqual([]);
  expect(logged.errors).toEqual([]);

  // Still serving: health, and a plain send with its answer.
  expect((await app().api().get('/health')).status).toBe(200);
  const ok = await app().api().post('/api/chat/send').set(bearer(world.alice)).send({ receiverId: world.bob, content: 'still here' });
  expect(ok.status).toBe(201);
  expect(ok.body.message.content).toBe('still here');
}, 180_000);
