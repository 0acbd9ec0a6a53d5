// What the REST fuzzer (tests/integration/fuzz-rest.test.ts) sends: the route table with plausible
// values for each field, and requests generated from it.
import fc, { type Arbitrary } from 'fast-check';
import { GIF, JPEG, PDF, PNG, RANDOM_BYTES, TEXT, WINDOWS_EXE } from './files';
import { type FuzzRequest, jsonBody, multipartBody, pathSegment, queryString } from './fuzz-http';
import { hostileString, hostileToken, hostileValue, oversizeString, payloadOf } from './fuzz-values';
import type { FuzzWorld } from './fuzz-world';
import { TEST_JWT_SECRET, tokenFor } from './test-app';

/** Authorization headers of the fuzzing user and of an admin, made once (a token's iat changes every second). */
export interface FuzzTokens {
  alice: string;
  admin: string;
}

export const fuzzTokens = (w: FuzzWorld): FuzzTokens => ({
  alice: `Bearer ${tokenFor(w.alice)}`,
  admin: `Bearer ${tokenFor(w.admin, { admin: true })}`,
});

export interface Route {
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
export function routes(w: FuzzWorld): Route[] {
  const id = fc.constantFrom(...w.ids);
  const limit = fc.integer({ min: -5, max: 200 });
  const content = fc.oneof(fc.constantFrom('hi', '', '   ', 'bonjour 👋'), hostileString(), oversizeString(5000));
  const cursor = fc.oneof(
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 ** 32 })).map(([at, i]) => Buffer.from(`${at}.${i}`).toString('base64url')),
    hostileString(30),
  );
  const time = fc.constantFrom(
    '2024-01-01', '2024-02-30T00:00Z', '0000-01-01', '9999-12-31T23:59:59.999999999Z', '2024-01-01T00:00+99:99', '+275760-09-13', '2024-01-01T25:61Z',
  );
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
    {
      method: 'GET',
      path: '/conversations/:id/messages',
      pathIds: w.conversationIds,
      query: { limit, before: id, after: id },
      queries: [{ limit: 2 }, { before: w.messageIds[2]! }, { after: w.messageIds[0]! }],
    },
    {
      method: 'POST',
      path: '/conversations/:id/read',
      pathIds: w.conversationIds,
      body: { upToMessageId: id },
      bodies: [{}, { upToMessageId: w.messageIds[1]! }],
    },
    { method: 'GET', path: '/unread-count' },
    { method: 'DELETE', path: '/messages/:id', pathIds: w.messageIds },
    {
      method: 'GET',
      path: '/search',
      query: { q: fc.oneof(fc.constantFrom('hello', 'bob & alice', '!', '*'), hostileString()), conversationId: id, limit },
      queries: [{ q: 'hello' }, { q: 'hi', conversationId: conversation }],
    },
    { method: 'POST', path: '/attachments', upload: true },
    { method: 'GET', path: '/attachments/:id', pathIds: w.attachmentIds },
    {
      method: 'GET',
      path: '/admin/messages',
      admin: true,
      query: {
        deleted: fc.constantFrom('only', 'include', 'exclude'),
        conversationId: id,
        senderId: id,
        since: time,
        until: time,
        before: id,
        limit,
      },
      queries: [{ deleted: 'only' }, { conversationId: conversation, since: '2020-01-01' }, { senderId: w.alice, limit: 5 }],
    },
    { method: 'POST', path: '/admin/messages/:id/restore', pathIds: w.messageIds, admin: true, body: { reason }, bodies: [{}, { reason: 'appeal' }] },
    { method: 'DELETE', path: '/admin/messages/:id', pathIds: w.messageIds, admin: true, body: { reason }, bodies: [{}, { reason: 'erasure' }] },
    {
      method: 'GET',
      path: '/admin/audit-log',
      admin: true,
      query: { messageId: id, actorId: id, before: id, limit },
      queries: [{}, { actorId: w.alice }],
    },
    {
      method: 'GET',
      path: '/admin/webhooks',
      admin: true,
      query: { status: fc.constantFrom('pending', 'failed', 'delivered', 'all', 'lost'), before: fc.oneof(fc.uuid(), hostileString(40)), limit },
      queries: [{}, { status: 'failed' }, { before: '00000000-0000-4000-8000-000000000000', limit: 5 }],
    },
    { method: 'POST', path: '/admin/webhooks/:id/retry', admin: true, bodies: [{}] },
  ];
}

/** Authorization headers: mostly the fuzzing user (or the admin on admin routes), sometimes anyone or nobody. */
function authorization(w: FuzzWorld, as: FuzzTokens, admin: boolean, hostile: Arbitrary<unknown>): Arbitrary<string> {
  const [user, adminToken] = [as.alice, as.admin];
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
      'X-Request-Id': fc.oneof(
        fc.constantFrom('abc-123', 'x'.repeat(65), '../../etc', '<script>'),
        fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
      ),
      Accept: fc.constantFrom('text/html', 'application/xml', '*/*', ''),
      Origin: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('null', 'http://evil.example', 'file://', '') },
      ),
    },
    { requiredKeys: [] },
  )
  .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Any request a client could make of a route: generated path id, query, body and token. */
function requestsFor(route: Route, w: FuzzWorld, as: FuzzTokens, maxUploadBytes: number): Arbitrary<FuzzRequest> {
  // Bodies get strings past the JSON limit; paths and queries shorter ones, mostly within Node's head limit.
  const hostile = hostileValue({ ids: w.ids, oversize: 70_000 });
  const inUrl = hostileValue({ ids: w.ids, oversize: 2_000 });
  const segment = pathSegment(fc.constantFrom(...(route.pathIds ?? []), ...w.ids), inUrl);
  const query = route.query
    ? queryString(route.query, inUrl, route.queries)
    : fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString({}, inUrl) });
  type Body = { body?: Buffer; headers: Record<string, string> };
  const body: Arbitrary<Body> = route.upload
    ? multipartBody([PNG, JPEG, GIF, PDF, TEXT, RANDOM_BYTES, WINDOWS_EXE], maxUploadBytes)
    : route.body
      ? jsonBody(payloadOf(route.body, hostile, route.bodies))
      : fc.oneof({ weight: 6, arbitrary: fc.constant<Body>({ headers: {} }) }, { weight: 1, arbitrary: jsonBody(payloadOf({}, hostile)) });
  const auth = authorization(w, as, Boolean(route.admin), inUrl);
  return fc
    .record({ auth, segment, query, body, extra: fc.option(extraHeaders, { nil: {}, freq: 2 }) })
    .map(({ auth, segment, query, body, extra }) => ({
      route: `${route.method} ${route.path}`,
      method: route.method,
      path: `/api/chat${route.path.replace(':id', segment)}${query}`,
      headers: { ...extra, ...body.headers, ...(auth ? { Authorization: auth } : {}) },
      body: body.body,
    }));
}

/** Paths and methods no route has, under /api/chat and outside it. */
function strayRequests(w: FuzzWorld, as: FuzzTokens): Arbitrary<FuzzRequest> {
  const hostile = hostileValue({ ids: w.ids, oversize: 1000 });
  const words = fc.constantFrom('conversations', 'messages', 'admin', 'send', 'attachments');
  const segments = fc.array(pathSegment(words, hostile), { minLength: 1, maxLength: 4 });
  const prefix = fc.constantFrom('/api/chat/', '/', '/api/chat/admin/');
  return fc.tuple(fc.constantFrom(...METHODS), prefix, segments).map(([method, prefix, parts]) => ({
    route: 'no such route',
    method,
    path: `${prefix}${parts.join('/')}`,
    headers: { Authorization: as.alice },
  }));
}

/** Any request to any route, and to routes that do not exist. */
export function restRequests(w: FuzzWorld, as: FuzzTokens, maxUploadBytes: number): Arbitrary<FuzzRequest> {
  return fc.oneof(...routes(w).map((route) => requestsFor(route, w, as, maxUploadBytes)), strayRequests(w, as));
}
