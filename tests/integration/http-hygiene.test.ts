import express from 'express';
import request, { type Response } from 'supertest';
import { io as connectClient, type Socket } from 'socket.io-client';
import { createChat } from '../../src/chat';
import { createCast } from '../helpers/factories';
import { bearer, type TestApp, tokenFor, useStartedApp, useTestApp } from '../helpers/test-app';

const APP_ORIGIN = 'https://app.example.com';

/** The headers API.md asks of every response. */
function expectSecurityHeaders(res: Response): void {
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(res.headers['x-powered-by']).toBeUndefined();
}

type Handshake = { connected: true } | { connected: false; message: string; code?: string };

const opened: Socket[] = [];
afterEach(async () => {
  // Wait until each engine connection has closed: a long-polling one the server still holds when
  // the app closes leaves engine.io a 30 s close timer.
  await Promise.all(
    opened.splice(0).map((socket) => {
      const engine = socket.io.engine;
      const closed = engine && engine.readyState !== 'closed' ? new Promise((resolve) => engine.once('close', resolve)) : undefined;
      socket.disconnect();
      return closed;
    }),
  );
});

/** Opens a socket as `userId` with the given Origin header; resolves with what socket.io-client saw. */
function handshake(t: TestApp, userId: number, origin: string | undefined, transport: 'websocket' | 'polling' = 'websocket'): Promise<Handshake> {
  const socket = connectClient(t.baseUrl, {
    auth: { token: tokenFor(userId) },
    transports: [transport],
    reconnection: false,
    forceNew: true,
    extraHeaders: origin === undefined ? {} : { Origin: origin },
  });
  opened.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true }));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve({ connected: false, message: err.message, code: err.data?.code }));
  });
}

describe('HTTP hygiene', () => {
  const app = useTestApp();

  describe('security headers', () => {
    test('every response of the standalone server carries them, errors and the demo included', async () => {
      const t = app();
      const { alice } = await createCast(t.chat.sequelize);
      const responses = [
        await t.api().get('/health'),
        await t.api().get('/ready'),
        await t.api().get('/metrics'),
        await t.api().get('/demo'),
        await t.api().get('/demo.js'),
        await t.api().get('/no-such-page'),
        await t.api().get('/api/chat/conversations').set(bearer(alice)),
        await t.api().get('/api/chat/conversations'),
        await t.api().get('/api/chat/no-such-route').set(bearer(alice)),
        await t.api().post('/api/chat/send').set(bearer(alice)).send({ receiverId: 'x' }),
        await t.api().get('/api/chat/conversations').set('Origin', 'https://evil.example'),
      ];
      expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 404, 200, 401, 404, 400, 403]);
      for (const res of responses) expectSecurityHeaders(res);
    });

    test("a host that mounts only the router gets them on the router's responses, and no X-Powered-By", async () => {
      const t = app();
      const { alice } = await createCast(t.chat.sequelize);
      const host = express(); // X-Powered-By left on, as a host may have it
      host.use('/api/chat', t.chat.router);
      for (const res of [
        await request(host).get('/api/chat/unread-count').set(bearer(alice)),
        await request(host).get('/api/chat/unread-count'),
        await request(host).get('/api/chat/conversations/abc').set(bearer(alice)),
      ]) {
        expectSecurityHeaders(res);
        expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
        // HSTS is for whoever terminates TLS, not for a router mounted in someone else's app.
        expect(res.headers['strict-transport-security']).toBeUndefined();
      }
    });

    test('the demo page runs no inline script: its CSP allows none and the page has none', async () => {
      const res = await app().api().get('/demo');
      const csp = res.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      const scripts = res.text.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toMatch(/\bsrc="\//);
      expect(res.text).not.toMatch(/\son[a-z]+\s*=/i);
      expect(res.text).not.toContain('<style');
      const script = await app().api().get('/demo.js');
      expect(script.headers['content-type']).toMatch(/javascript/);
      expect(script.text).not.toContain('innerHTML');
    });

    test('long-polling responses carry nosniff and no framing too', async () => {
      const res = await app().api().get('/socket.io/?EIO=4&transport=polling');
      expect(res.status).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
    });
  });

  describe('origins, with no CORS_ORIGINS (the same origin only)', () => {
    test('REST: no Origin and the same origin pass; another origin, null and malformed ones are FORBIDDEN', async () => {
      const t = app();
      const { alice } = await createCast(t.chat.sequelize);
      const call = (origin?: string) => {
        const req = t.api().get('/api/chat/unread-count').set(bearer(alice));
        return origin === undefined ? req : req.set('Origin', origin);
      };
      expect((await call()).status).toBe(200);
      expect((await call()).headers['access-control-allow-origin']).toBeUndefined();
      expect((await call(t.baseUrl)).status).toBe(200);
      const port = Number(new URL(t.baseUrl).port);
      for (const origin of [APP_ORIGIN, `http://127.0.0.1:${port + 1}`, `http://localhost:${port}`, 'null', 'not an origin']) {
        const res = await call(origin);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
      }
    });

    test('a preflight from another origin is FORBIDDEN', async () => {
      const res = await app()
        .api()
        .options('/api/chat/send')
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    });

    test.each(['websocket', 'polling'] as const)('sockets over %s: no Origin and the same origin connect; others are refused with FORBIDDEN', async (transport) => {
      const t = app();
      const { alice } = await createCast(t.chat.sequelize);
      expect(await handshake(t, alice, undefined, transport)).toEqual({ connected: true });
      expect(await handshake(t, alice, t.baseUrl, transport)).toEqual({ connected: true });
      for (const origin of [APP_ORIGIN, 'null']) {
        expect(await handshake(t, alice, origin, transport)).toEqual({ connected: false, message: expect.any(String), code: 'FORBIDDEN' });
      }
    });

    test('a refused origin is refused before its token is looked at', async () => {
      const t = app();
      const socket = connectClient(t.baseUrl, { auth: { token: 'not a token' }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { Origin: APP_ORIGIN } });
      opened.push(socket);
      const err = await new Promise<Error & { data?: { code?: string } }>((resolve) => socket.once('connect_error', resolve));
      expect(err.data?.code).toBe('FORBIDDEN');
    });
  });

  describe('origins, with CORS_ORIGINS listing an app', () => {
    const listed = useStartedApp({ corsOrigins: [APP_ORIGIN] });

    test('REST from the listed origin gets CORS headers; other origins are still FORBIDDEN', async () => {
      const t = listed();
      const { alice } = await createCast(t.chat.sequelize);
      const res = await t.api().get('/api/chat/unread-count').set(bearer(alice)).set('Origin', APP_ORIGIN);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers.vary).toMatch(/Origin/);
      expect(res.headers['access-control-expose-headers']).toContain('Retry-After');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expectSecurityHeaders(res);
      expect((await t.api().get('/api/chat/unread-count').set(bearer(alice)).set('Origin', 'https://other.example')).status).toBe(403);
      expect((await t.api().get('/api/chat/unread-count').set(bearer(alice)).set('Origin', t.baseUrl)).status).toBe(200);
    });

    test('a preflight from the listed origin is answered without a token and allows Authorization', async () => {
      const res = await listed()
        .api()
        .options('/api/chat/send')
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
      expect(res.headers['access-control-allow-headers']).toMatch(/Content-Type/);
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
      expectSecurityHeaders(res);
    });

    test('sockets from the listed origin connect, over both transports; long-polling gets its CORS headers', async () => {
      const t = listed();
      const { alice } = await createCast(t.chat.sequelize);
      expect(await handshake(t, alice, APP_ORIGIN, 'websocket')).toEqual({ connected: true });
      expect(await handshake(t, alice, APP_ORIGIN, 'polling')).toEqual({ connected: true });
      expect(await handshake(t, alice, 'https://other.example')).toMatchObject({ connected: false, code: 'FORBIDDEN' });
      const poll = (origin: string) => t.api().get('/socket.io/?EIO=4&transport=polling').set('Origin', origin);
      expect((await poll(APP_ORIGIN)).headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect((await poll('https://other.example')).headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('origins, with CORS_ORIGINS=*', () => {
    const anyOrigin = useStartedApp({ corsOrigins: ['*'] });

    test('any origin may call and connect, but Origin: null still may not', async () => {
      const t = anyOrigin();
      const { alice } = await createCast(t.chat.sequelize);
      const res = await t.api().get('/api/chat/unread-count').set(bearer(alice)).set('Origin', 'https://anywhere.example');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://anywhere.example');
      expect((await t.api().get('/api/chat/unread-count').set(bearer(alice)).set('Origin', 'null')).status).toBe(403);
      expect(await handshake(t, alice, 'https://anywhere.example')).toEqual({ connected: true });
      expect(await handshake(t, alice, 'null')).toMatchObject({ connected: false, code: 'FORBIDDEN' });
    });
  });

  test('createChat refuses a malformed origin before it touches anything', async () => {
    const options = { sequelize: app().chat.sequelize, auth: { secret: 'x'.repeat(32) }, migrate: false, corsOrigins: ['app.example.com'] };
    await expect(createChat(options)).rejects.toThrow(/CORS_ORIGINS/);
  });
});
