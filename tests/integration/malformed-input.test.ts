import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import jwt from 'jsonwebtoken';
import type { Response } from 'supertest';
import { createCast, sendMessage } from '../helpers/factories';
import { bearer, TEST_JWT_SECRET, tokenFor, useTestApp } from '../helpers/test-app';

const app = useTestApp();

const CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
];

/** The contract's error envelope, and nothing that leaks how the server is built. */
function expectError(res: Response, status: number, code: string, label: unknown = ''): void {
  expect({ label, status: res.status, code: res.body?.error?.code }).toEqual({ label, status, code });
  expect(CODES).toContain(code);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(res.body.error)) expect(['code', 'message', 'details']).toContain(key);
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/\bat \S+ \(|\bat \/|:\d+:\d+\)|\\n\s*at /);
  for (const leak of ['SELECT', 'INSERT', 'UPDATE ', 'Sequelize', 'node_modules', 'stack', 'pg_']) expect(text).not.toContain(leak);
}

/** A raw JSON text body, sent exactly as written. */
const postRaw = (path: string, userId: number, body: string, type = 'application/json') =>
  app().api().post(path).set(bearer(userId)).set('Content-Type', type).send(body);

/**
 * POSTs exact bytes to /api/chat/send with a Content-Encoding (supertest would JSON-encode a
 * Buffer sent as application/json).
 */
function postBytes(userId: number, encoding: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${app().baseUrl}/api/chat/send`,
      {
        method: 'POST',
        headers: { ...bearer(userId), 'Content-Type': 'application/json', 'Content-Encoding': encoding, 'Content-Length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('malformed bodies', () => {
  test('invalid JSON is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (const body of [`{"receiverId": ${bob},`, '{receiverId: 2}', "{'a': 1}", '{"a": 1}}', 'nul', '\u0000']) {
      expectError(await postRaw('/api/chat/send', alice, body), 400, 'VALIDATION_FAILED', body);
    }
  });

  test('a JSON body that is not an object is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (const body of ['"hello"', '42', `[{"receiverId": ${bob}, "content": "hi"}]`, '[]', 'true']) {
      expectError(await postRaw('/api/chat/send', alice, body), 400, 'VALIDATION_FAILED', body);
      expectError(await postRaw('/api/chat/conversations', alice, body), 400, 'VALIDATION_FAILED', body);
    }
    // Deep nesting is just another array.
    expectError(await postRaw('/api/chat/send', alice, '['.repeat(5000) + ']'.repeat(5000)), 400, 'VALIDATION_FAILED');
  });

  test('a receiverId of the wrong type or range is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const bad: unknown[] = ['abc', true, 1.5, -1, 0, '', '1.0', '0x10', ' 2', [2], null, 2_147_483_648, '99999999999999999999'];
    for (const receiverId of bad) {
      const res = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId, content: 'hi' });
      expectError(res, 400, 'VALIDATION_FAILED', receiverId);
    }
  });

  test('numbers JSON cannot hold exactly (1e400) are VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const body of ['{"receiverId":1e400,"content":"hi"}', '{"receiverId":-1e400,"content":"hi"}', '{"receiverId":9007199254740993,"content":"hi"}']) {
      expectError(await postRaw('/api/chat/send', alice, body), 400, 'VALIDATION_FAILED', body);
    }
    expectError(await postRaw('/api/chat/conversations', alice, '{"participantId":1e400}'), 400, 'VALIDATION_FAILED');
  });

  test('content that is not a string is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (const content of [123, { text: 'hi' }, ['hi'], true]) {
      const res = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content });
      expectError(res, 400, 'VALIDATION_FAILED', content);
    }
    const [rows] = await app().chat.sequelize.query('SELECT count(*)::int AS n FROM messages');
    expect((rows as { n: number }[])[0]!.n).toBe(0);
  });

  test('text PostgreSQL cannot store (NUL) is VALIDATION_FAILED; a lone surrogate is stored as U+FFFD', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const post = (body: object) => app().api().post('/api/chat/send').set(bearer(alice)).send(body);
    expectError(await post({ receiverId: bob, content: 'a\u0000b' }), 400, 'VALIDATION_FAILED', 'NUL content');
    expectError(await post({ receiverId: bob, content: 'hi', clientMessageId: 'c\u0000' }), 400, 'VALIDATION_FAILED', 'NUL id');
    expectError(await app().api().get('/api/chat/search').query({ q: 'a\u0000' }).set(bearer(alice)), 400, 'VALIDATION_FAILED', 'NUL q');

    // A truncated emoji: half of a surrogate pair. JSON can carry it; UTF-8 cannot.
    const res = await postRaw('/api/chat/send', alice, `{"receiverId": ${bob}, "content": "cut \\ud83d here", "clientMessageId": "half\\udc00"}`);
    expect(res.status).toBe(201);
    expect(res.body.message.content).toBe('cut \ufffd here');
    expect(res.body.message.clientMessageId).toBe('half\ufffd');
    const retry = await postRaw('/api/chat/send', alice, `{"receiverId": ${bob}, "content": "cut \\ud83d here", "clientMessageId": "half\\udc00"}`);
    expect(retry.status).toBe(200);
    expect(retry.body.message.id).toBe(res.body.message.id);
  });

  test('query-operator objects are VALIDATION_FAILED, not queries', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello');
    const cases: [string, Record<string, unknown>][] = [
      ['/api/chat/send', { receiverId: { $gt: 0 }, content: 'hi' }],
      ['/api/chat/send', { receiverId: bob, content: { $ne: null } }],
      ['/api/chat/send', { receiverId: bob, content: 'hi', clientMessageId: { $regex: '.*' } }],
      ['/api/chat/conversations', { participantId: { $gt: 0 } }],
      [`/api/chat/conversations/${sent.message.conversationId}/read`, { upToMessageId: { $gt: 0 } }],
    ];
    for (const [path, body] of cases) {
      expectError(await app().api().post(path).set(bearer(alice)).send(body), 400, 'VALIDATION_FAILED', body);
    }
    // Nothing was marked read and nothing was sent.
    const conversation = await app().api().get(`/api/chat/conversations/${sent.message.conversationId}`).set(bearer(bob));
    expect(conversation.body.conversation.unreadCount).toBe(1);
  });

  test('a clientMessageId that is too long, empty or not a string is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    for (const clientMessageId of ['x'.repeat(101), '', 42]) {
      const res = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'hi', clientMessageId });
      expectError(res, 400, 'VALIDATION_FAILED', clientMessageId);
    }
    const ok = await app().api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: bob, content: 'hi', clientMessageId: 'x'.repeat(100) });
    expect(ok.status).toBe(201);
  });

  test('a body over the JSON limit (3 MB) is PAYLOAD_TOO_LARGE', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const body = JSON.stringify({ receiverId: bob, content: 'x'.repeat(3 * 1024 * 1024) });
    expectError(await postRaw('/api/chat/send', alice, body), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('a multipart body anywhere but the upload route is UNSUPPORTED_MEDIA_TYPE, not read as no body', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), bob, alice, 'unread');
    const res = await postRaw(`/api/chat/conversations/${sent.message.conversationId}/read`, alice, '{"upToMessageId":[]}', 'multipart/form-data');
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a body that is not JSON is UNSUPPORTED_MEDIA_TYPE', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    expectError(await postRaw('/api/chat/send', alice, `receiverId=${bob}&content=hi`, 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(
      await postRaw('/api/chat/send', alice, `receiverId=${bob}&content=hi`, 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await postRaw('/api/chat/send', alice, JSON.stringify({ receiverId: bob, content: 'hi' }), 'application/json; charset=latin1'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  test('a compressed body that does not decompress is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const json = Buffer.from(JSON.stringify({ receiverId: bob, content: 'zipped' }));
    const garbage = await postBytes(alice, 'gzip', Buffer.from('this is not gzip at all'));
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.text)).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String) } });
    expect(garbage.text).not.toMatch(/zlib|incorrect header|\bat /);

    const truncated = await postBytes(alice, 'gzip', zlib.gzipSync(json).subarray(0, 12));
    expect(truncated.status).toBe(400);
    expect(JSON.parse(truncated.text).error.code).toBe('VALIDATION_FAILED');

    const unknownEncoding = await postBytes(alice, 'x-made-up', json);
    expect(unknownEncoding.status).toBe(415);
    expect(JSON.parse(unknownEncoding.text).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    // A body that really is gzip is read normally.
    const gzipped = await postBytes(alice, 'gzip', zlib.gzipSync(json));
    expect(gzipped.status).toBe(201);
    expect(JSON.parse(gzipped.text).message.content).toBe('zipped');
  });
});

describe('malformed query strings', () => {
  test('a repeated parameter (an array) is VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const sent = await sendMessage(app(), alice, bob, 'hello there');
    const id = sent.message.conversationId;
    for (const path of [
      '/api/chat/conversations?limit=1&limit=2',
      `/api/chat/conversations/${id}/messages?limit=1&limit=2`,
      `/api/chat/conversations/${id}/messages?before=5&before=6`,
      '/api/chat/search?q=hello&q=there',
      `/api/chat/search?q=hello&conversationId=${id}&conversationId=${id}`,
      '/api/chat/conversations?cursor=a&cursor=b',
    ]) {
      expectError(await app().api().get(path).set(bearer(alice)), 400, 'VALIDATION_FAILED', path);
    }
  });

  test('bracketed (object-style) parameters never reach a query', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await sendMessage(app(), alice, bob, 'hello');
    // q given only as an object is no q at all.
    expectError(await app().api().get('/api/chat/search?q[$ne]=x').set(bearer(alice)), 400, 'VALIDATION_FAILED');
    // An unknown parameter is ignored: the defaults apply.
    const list = await app().api().get('/api/chat/conversations?limit[$gt]=0').set(bearer(alice));
    expect(list.status).toBe(200);
    expect(list.body.conversations).toHaveLength(1);
  });

  test('malformed numbers and cursors are VALIDATION_FAILED', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const id = (await sendMessage(app(), alice, bob, 'hello')).message.conversationId;
    for (const path of [
      '/api/chat/conversations?limit=0',
      '/api/chat/conversations?limit=-5',
      '/api/chat/conversations?limit=abc',
      '/api/chat/conversations?limit=1e400',
      '/api/chat/conversations?cursor=not-a-cursor',
      `/api/chat/conversations?cursor=${'A'.repeat(300)}`,
      `/api/chat/conversations/${id}/messages?before=abc`,
      `/api/chat/conversations/${id}/messages?after=99999999999999999999`,
      `/api/chat/conversations/${id}/messages?before=1&after=2`,
      '/api/chat/search?q=x&limit=1.5',
    ]) {
      expectError(await app().api().get(path).set(bearer(alice)), 400, 'VALIDATION_FAILED', path);
    }
  });
});

describe('malformed ids in paths', () => {
  const badIds = ['abc', '-1', '1e400', '0', '99999999999999999999', '1.5', '%20', '0x1F', '1;DROP'];

  test('a malformed conversation id is VALIDATION_FAILED on every route', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const id of [...badIds, '2147483648']) {
      expectError(await app().api().get(`/api/chat/conversations/${id}`).set(bearer(alice)), 400, 'VALIDATION_FAILED', id);
      expectError(await app().api().get(`/api/chat/conversations/${id}/messages`).set(bearer(alice)), 400, 'VALIDATION_FAILED', id);
      expectError(await app().api().post(`/api/chat/conversations/${id}/read`).set(bearer(alice)).send({}), 400, 'VALIDATION_FAILED', id);
    }
  });

  test('a malformed message id is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const id of [...badIds, '9007199254740992', '9223372036854775808']) {
      expectError(await app().api().delete(`/api/chat/messages/${id}`).set(bearer(alice)), 400, 'VALIDATION_FAILED', id);
    }
  });

  test('a well-formed id that is far out of sight is NOT_FOUND', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expectError(await app().api().get('/api/chat/conversations/2147483647').set(bearer(alice)), 404, 'NOT_FOUND');
    expectError(await app().api().delete('/api/chat/messages/9007199254740991').set(bearer(alice)), 404, 'NOT_FOUND');
  });

  test('a path that is not valid percent-encoding is VALIDATION_FAILED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expectError(await app().api().get('/api/chat/conversations/%E0%A4%A').set(bearer(alice)), 400, 'VALIDATION_FAILED');
    expectError(await app().api().delete('/api/chat/messages/%zz').set(bearer(alice)), 400, 'VALIDATION_FAILED');
  });
});

describe("requests Node's HTTP parser refuses", () => {
  /** Writes raw bytes on a fresh connection and resolves with everything the server sends back. */
  function rawExchange(bytes: string): Promise<string> {
    const { hostname, port } = new URL(app().baseUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => socket.end(bytes));
      let text = '';
      socket.setEncoding('utf8');
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
  }

  test('a URL or a header past the header limit is PAYLOAD_TOO_LARGE with the envelope, and the server keeps serving', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    expectError(await app().api().get(`/api/chat/conversations?cursor=${'x'.repeat(20_000)}`).set(bearer(alice)), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await app().api().get('/api/chat/conversations').set(bearer(alice)).set('X-Padding', 'x'.repeat(20_000)), 413, 'PAYLOAD_TOO_LARGE');
    expect((await sendMessage(app(), alice, bob, 'still served')).message.content).toBe('still served');
  });

  test('an over-long URL after a first request on a kept-alive connection is answered too', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; reused: boolean; body: string }>((resolve, reject) => {
        const req = http.get(`${app().baseUrl}${path}`, { agent, headers: bearer(alice) }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, body }));
        });
        req.on('error', reject);
      });
    try {
      expect(await get('/api/chat/unread-count')).toMatchObject({ status: 200, reused: false });
      const second = await get(`/api/chat/conversations?cursor=${'x'.repeat(20_000)}`);
      expect({ status: second.status, reused: second.reused }).toEqual({ status: 413, reused: true });
      expect(JSON.parse(second.body)).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } });
    } finally {
      agent.destroy();
    }
  });

  test('bytes that are not HTTP are VALIDATION_FAILED with the envelope', async () => {
    const answer = await rawExchange('HELLO /api/chat/send HTTP/1.1\r\nHost: x\r\n\r\n');
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).toMatch(/\r\nContent-Type: application\/json/);
    expect(JSON.parse(body!)).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'The request is not valid HTTP' } });
  });
});

describe('unknown routes', () => {
  test('an unknown route under /api/chat is NOT_FOUND with the envelope', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    expectError(await app().api().get('/api/chat/nope').set(bearer(alice)), 404, 'NOT_FOUND');
    expectError(await app().api().put('/api/chat/send').set(bearer(alice)).send({}), 404, 'NOT_FOUND');
    expectError(await app().api().get('/api/chat/conversations/1/nope').set(bearer(alice)), 404, 'NOT_FOUND');
  });

  test('an unknown route outside /api/chat is NOT_FOUND with the envelope', async () => {
    expectError(await app().api().get('/no/such/thing'), 404, 'NOT_FOUND');
  });
});

describe('authentication', () => {
  const routes = [
    ['get', '/api/chat/conversations'],
    ['post', '/api/chat/send'],
    ['get', '/api/chat/unread-count'],
    ['delete', '/api/chat/messages/1'],
    ['get', '/api/chat/nope'],
  ] as const;

  async function expectUnauthorized(headers: Record<string, string>, label: string): Promise<void> {
    for (const [method, path] of routes) {
      const res = await app().api()[method](path).set(headers).send(method === 'post' ? { receiverId: 2, content: 'hi' } : undefined);
      expectError(res, 401, 'UNAUTHORIZED', `${label}: ${method} ${path}`);
    }
  }

  test('a missing token is UNAUTHORIZED', async () => {
    await createCast(app().chat.sequelize);
    await expectUnauthorized({}, 'no header');
    await expectUnauthorized({ Authorization: 'Bearer' }, 'empty bearer');
    await expectUnauthorized({ Authorization: '' }, 'empty header');
  });

  test('a garbage token or another scheme is UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    await expectUnauthorized({ Authorization: 'Bearer garbage' }, 'garbage');
    await expectUnauthorized({ Authorization: 'Bearer a.b.c' }, 'three garbage parts');
    await expectUnauthorized({ Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` }, 'basic');
    await expectUnauthorized({ Authorization: tokenFor(alice) }, 'no scheme');
  });

  test('a token signed with the wrong secret is UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    await expectUnauthorized(bearer(alice, { secret: 'a-completely-different-secret-0123456789abcdef' }), 'wrong secret');
  });

  test('a token signed with another algorithm, or none, is UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const hs512 = jwt.sign({ sub: String(alice) }, TEST_JWT_SECRET, { algorithm: 'HS512' });
    await expectUnauthorized({ Authorization: `Bearer ${hs512}` }, 'HS512');
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: String(alice), exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
    await expectUnauthorized({ Authorization: `Bearer ${unsigned}` }, 'alg none');
  });

  test('an expired token is UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    await expectUnauthorized(bearer(alice, { expiresIn: -10 }), 'expired');
  });

  test('a token for a user who is not in the users table is UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    await expectUnauthorized(bearer(alice + 1000), 'unknown user');
    // A user the host removes loses access at once.
    expect((await app().api().get('/api/chat/unread-count').set(bearer(alice))).status).toBe(200);
    await app().chat.sequelize.query('DELETE FROM users WHERE id = :alice', { replacements: { alice } });
    await expectUnauthorized(bearer(alice), 'removed user');
  });

  test('a sub claim that is not a user id is UNAUTHORIZED', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    for (const sub of ['abc', '', '0', '-1', '1.5', `${alice}abc`, '99999999999999999999', true, { id: alice }, [alice]]) {
      await expectUnauthorized(bearer(alice, { claims: { sub } }), `sub ${JSON.stringify(sub)}`);
    }
    const noSub = jwt.sign({ name: 'alice' }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });
    await expectUnauthorized({ Authorization: `Bearer ${noSub}` }, 'no sub');
  });

  test('a sub claim given as a JSON number is accepted', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const res = await app().api().get('/api/chat/unread-count').set(bearer(alice, { claims: { sub: alice } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ total: 0, conversations: [] });
  });

  test('an unauthenticated request is refused before its body is read', async () => {
    await createCast(app().chat.sequelize);
    // Malformed JSON, a wrong type and an oversized body all get the same 401.
    expectError(await app().api().post('/api/chat/send').set('Content-Type', 'application/json').send('{oops'), 401, 'UNAUTHORIZED');
    expectError(await app().api().post('/api/chat/send').set('Content-Type', 'text/plain').send('hello'), 401, 'UNAUTHORIZED');
  });
});
