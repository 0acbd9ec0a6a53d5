import http from 'node:http';
import fc, { type Arbitrary } from 'fast-check';
import { GIF, JPEG, PDF, PNG, RANDOM_BYTES, TEXT, WINDOWS_EXE } from '../helpers/files';
import { errorRecordingLogger, fuzzSeed, heapAfterGc, restProblem, shortReport, structuredField, watchUnhandledRejections } from '../helpers/fuzz-checks';
import { closeAgent, type FuzzRequest, type FuzzResponse, jsonBody, multipartBody, pathSegment, queryString, send } from '../helpers/fuzz-http';
import { hostileString, hostileToken, hostileValue, oversizeString, payloadOf } from '../helpers/fuzz-values';
import { buildWorld, type FuzzWorld, namesStrangers } from '../helpers/fuzz-world';
import { bearer, TEST_JWT_SECRET, tokenFor, useStartedApp } from '../helpers/test-app';

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

// Generous send limits, so that the fuzzer exercises validation rather than the limiter; a small
// recovery buffer, so that the heap check sees leaks rather than that buffer filling to its bound.
const logged = errorRecordingLogger();
const app = useStartedApp({
  logger: logged.logger,
  limits: { sendBurst: 1e9, sendPerSecond: 1e9, maxUploadBytes: MAX_UPLOAD_BYTES },
  realtime: { recoveryMaxEvents: 100 },
});
const unhandled = watchUnhandledRejections();

let world: FuzzWorld;
/** The route each request was generated for, by its name. */
let routeByName: Map<string, Route>;
/** The fuzzing user's Authorization header (made once: a token's iat changes every second). */
let asAlice: string;
beforeAll(async () => {
  world = await buildWorld(app());
  asAlice = `Bearer ${tokenFor(world.alice)}`;
  routeByName = new Map(routes(world).map((route) => [`${route.method} ${route.path}`, route]));
});
afterAll(() => closeAgent());

interface Route {
  method: string;
  path: string;
  /** Real ids for the path's :id, besides any id of the world. */
  pathIds?: number[];
  admin?: boolean;
  query?: Record<string, Arbitrary<unknown>>;
  /** Valid queries and bodies, which the fuzzer mutates. */
  queries?: object[];
  body?: Record<string, Arbitrary<unknown>>;
  bodies?: object[];
  upload?: boolean;
}

/** The route table of src/http/chat.router.ts, with plausible values for each field. */
function routes(w: FuzzWorld): Route[] {
  const id = fc.constantFrom(...w.ids);
  const limit = fc.integer({ min: -5, max: 200 });
  const content = fc.oneof(fc.constantFrom('hi', '', '   ', 'bonjour 👋'), hostileString(), oversizeString(5000));
  const cursor = fc.oneof(
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 ** 32 })).map(([at, i]) => Buffer.from(`${at}.${i}`).toString('base64url')),
    hostileString(30),
  );
  const time = fc.constantFrom('2024-01-01', '2024-02-30T00:00Z', '0000-01-01', '9999-12-31T23:59:59.999999999Z', '2024-01-01T00:00+99:99', '+275760-09-13', '2024-01-01T25:61Z');
  const reason = fc.oneof(hostileString(), oversizeString(600));
  const [conversation] = w.conversationIds;
  const [unsent] = w.attachmentIds.slice(1);
  return [
    {
      method: 'POST',
      path: '/send',
      body: { receiverId: id, conversationId: id, content, clientMessageId: fc.oneof(fc.constant('bob-1'), hostileString(8)), attachmentId: id },
      bodies: [
        { receiverId: w.bob, content: 'hi' },
        { conversationId: conversation, content: 'hi', clientMessageId: 'c-1' },
        { receiverId: w.bob, content: '', attachmentId: unsent },
        { receiverId: w.mallory, content: 'hello stranger' },
      ],
    },
    { method: 'POST', path: '/conversations', body: { participantId: id }, bodies: [{ participantId: w.bob }, { participantId: w.admin }] },
    { method: 'GET', path: '/conversations', query: { limit, cursor }, queries: [{ limit: 1 }, { limit: 20 }] },
    { method: 'GET', path: '/conversations/:id', pathIds: w.conversationIds },
    { method: 'GET', path: '/conversations/:id/messages', pathIds: w.conversationIds, query: { limit, before: id, after: id }, queries: [{ limit: 2 }, { before: w.messageIds[2]! }, { after: w.messageIds[0]! }] },
    { method: 'POST', path: '/conversations/:id/read', pathIds: w.conversationIds, body: { upToMessageId: id }, bodies: [{}, { upToMessageId: w.messageIds[1]! }] },
    { method: 'GET', path: '/unread-count' },
    { method: 'DELETE', path: '/messages/:id', pathIds: w.messageIds },
    { method: 'GET', path: '/search', query: { q: fc.oneof(fc.constantFrom('hello', 'bob & alice', '!', '*'), hostileString()), conversationId: id, limit }, queries: [{ q: 'hello' }, { q: 'hi', conversationId: conversation }] },
    { method: 'POST', path: '/attachments', upload: true },
    { method: 'GET', path: '/attachments/:id', pathIds: w.attachmentIds },
    {
      method: 'GET',
      path: '/admin/messages',
      admin: true,
      query: { deleted: fc.constantFrom('only', 'include', 'exclude'), conversationId: id, senderId: id, since: time, until: time, before: id, limit },
      queries: [{ deleted: 'only' }, { conversationId: conversation, since: '2020-01-01' }, { senderId: w.alice, limit: 5 }],
    },
    { method: 'POST', path: '/admin/messages/:id/restore', pathIds: w.messageIds, admin: true, body: { reason }, bodies: [{}, { reason: 'appeal' }] },
    { method: 'DELETE', path: '/admin/messages/:id', pathIds: w.messageIds, admin: true, body: { reason }, bodies: [{}, { reason: 'erasure' }] },
    { method: 'GET', path: '/admin/audit-log', admin: true, query: { messageId: id, actorId: id, before: id, limit }, queries: [{}, { actorId: w.alice }] },
  ];
}

/** Authorization headers: mostly the fuzzing user (or the admin on admin routes), sometimes anyone or nobody. */
function authorization(w: FuzzWorld, admin: boolean, hostile: Arbitrary<unknown>): Arbitrary<string> {
  const user = asAlice;
  const adminToken = `Bearer ${tokenFor(w.admin, { admin: true })}`;
  const others = ['', 'Bearer', 'Bearer ', 'Bearer x.y.z', 'Basic YWxpY2U6c2VjcmV0', `bearer ${tokenFor(w.alice)}`, `Bearer ${tokenFor(w.mallory)}`];
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant(admin ? adminToken : user) },
    { weight: 3, arbitrary: fc.constant(admin ? user : adminToken) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
    { weight: 2, arbitrary: hostileToken(TEST_JWT_SECRET, [w.alice, w.admin, w.ids.at(-1)!], hostile).map((token) => `Bearer ${token}`) },
  );
}

/** Headers besides the body's: request ids, what the client accepts, now and then a foreign origin. */
const extraHeaders = fc
  .record(
    {
      'X-Request-Id': fc.oneof(fc.constantFrom('abc-123', 'x'.repeat(65), '../../etc', '<script>'), fc.string({ unit: 'grapheme-ascii', maxLength: 80 })),
      Accept: fc.constantFrom('text/html', 'application/xml', '*/*', ''),
      Origin: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('null', 'http://evil.example', 'file://', '') }),
    },
    { requiredKeys: [] },
  )
  .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Any request a client could make of a route: generated path id, query, body and token. */
function requestsFor(route: Route, w: FuzzWorld): Arbitrary<FuzzRequest> {
  // Bodies get strings past the JSON limit; paths and queries shorter ones, mostly within Node's head limit.
  const hostile = hostileValue({ ids: w.ids, oversize: 70_000 });
  const inUrl = hostileValue({ ids: w.ids, oversize: 2_000 });
  const segment = pathSegment(fc.constantFrom(...(route.pathIds ?? []), ...w.ids), inUrl);
  const query = route.query
    ? queryString(route.query, inUrl, route.queries)
    : fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString({}, inUrl) });
  type Body = { body?: Buffer; headers: Record<string, string> };
  const body: Arbitrary<Body> = route.upload
    ? multipartBody([PNG, JPEG, GIF, PDF, TEXT, RANDOM_BYTES, WINDOWS_EXE], MAX_UPLOAD_BYTES)
    : route.body
      ? jsonBody(payloadOf(route.body, hostile, route.bodies))
      : fc.oneof({ weight: 6, arbitrary: fc.constant<Body>({ headers: {} }) }, { weight: 1, arbitrary: jsonBody(payloadOf({}, hostile)) });
  return fc
    .record({ auth: authorization(w, Boolean(route.admin), inUrl), segment, query, body, extra: fc.option(extraHeaders, { nil: {}, freq: 2 }) })
    .map(({ auth, segment, query, body, extra }) => ({
      route: `${route.method} ${route.path}`,
      method: route.method,
      path: `/api/chat${route.path.replace(':id', segment)}${query}`,
      headers: { ...extra, ...body.headers, ...(auth ? { Authorization: auth } : {}) },
      body: body.body,
    }));
}

/** Paths and methods no route has, under /api/chat and outside it. */
function strayRequests(w: FuzzWorld): Arbitrary<FuzzRequest> {
  const hostile = hostileValue({ ids: w.ids, oversize: 1000 });
  const segments = fc.array(pathSegment(fc.constantFrom('conversations', 'messages', 'admin', 'send', 'attachments'), hostile), { minLength: 1, maxLength: 4 });
  return fc.tuple(fc.constantFrom(...METHODS), fc.constantFrom('/api/chat/', '/', '/api/chat/admin/'), segments).map(([method, prefix, parts]) => ({
    route: 'no such route',
    method,
    path: `${prefix}${parts.join('/')}`,
    headers: { Authorization: `Bearer ${tokenFor(w.alice)}` },
  }));
}

let sent = 0;

/** What a failure report says about a request: its head in short, the size of its body. */
function describe(request: FuzzRequest): string {
  const path = request.path.length > 200 ? `${request.path.slice(0, 200)}… (${request.path.length} characters)` : request.path;
  return `${request.method} ${path} headers ${JSON.stringify(request.headers).slice(0, 300)} body ${request.body?.length ?? 0} bytes`;
}

/** The bytes of a request line and headers, as Node's parser counts them against http.maxHeaderSize. */
const headBytes = (request: FuzzRequest) =>
  Buffer.byteLength(`${request.method} ${request.path} HTTP/1.1\r\n`) + Object.entries(request.headers).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v) + 4, 64);

const isReset = (err: unknown) => ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '') || (err as Error).message === 'socket hang up';

async function check(request: FuzzRequest): Promise<void> {
  sent++;
  let res: FuzzResponse;
  try {
    res = await send(app().baseUrl, request);
  } catch (err) {
    // Past the head limit Node answers while the client is still sending, then closes; the reset
    // may reach the client before the answer (malformed-input.test.ts checks that answer).
    if (headBytes(request) > http.maxHeaderSize && isReset(err)) return;
    throw new Error(`${describe(request)}: ${(err as Error).message}`);
  }
  const problem =
    request.method === 'OPTIONS' && res.status < 300
      ? undefined
      : (restProblem(res.status, res.contentType, res.text) ?? acceptedStructure(request, res.status) ?? strangersThingServed(request, res.status));
  if (problem) throw new Error(`${describe(request)}: ${problem}`);
}

/** A success for alice on a path, body or query that names a conversation, message or file of strangers. */
function strangersThingServed(request: FuzzRequest, status: number): string | undefined {
  if (status >= 300 || request.headers.Authorization !== asAlice || request.route.includes('/admin/')) return undefined;
  const { conversations, messages, attachments } = world.strangers;
  const [path = '', query = ''] = request.path.split('?');
  const [, , , kind, id] = path.split('/');
  let segment: string | undefined;
  try {
    segment = id === undefined ? undefined : decodeURIComponent(id);
  } catch {
    return undefined;
  }
  const things = kind === 'conversations' ? conversations : kind === 'messages' ? messages : kind === 'attachments' ? attachments : undefined;
  if (things && namesStrangers(things, segment)) return `status ${status} for alice on strangers' /${kind}/${segment}`;
  if (request.route === 'GET /search' && new URLSearchParams(query).getAll('conversationId').some((v) => namesStrangers(conversations, v))) {
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
  const all = fc.oneof(...routes(world).map((route) => requestsFor(route, world)), strayRequests(world));

  await fuzz(all, WARM_UP, 1, seed);
  const heapBefore = heapAfterGc();
  await fuzz(all, BATCHES, BATCH, seed + 1);
  const heapAfter = heapAfterGc();

  expect(sent).toBeGreaterThanOrEqual(WARM_UP + BATCHES * BATCH);
  console.info(`REST fuzzer: ${sent} requests; heapUsed after GC ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB`);
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
