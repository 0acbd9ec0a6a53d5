import request from 'supertest';
import { createApp } from '../../src/app';
import { createChat } from '../../src/chat';
import { createLogger } from '../../src/shared/logger';
import { createCast, sendMessage } from '../helpers/factories';
import { freePort } from '../helpers/free-port';
import { bearer, TEST_JWT_SECRET, useTestApp } from '../helpers/test-app';

describe('operations endpoints', () => {
  const app = useTestApp();

  test('/health answers without a token', async () => {
    const res = await app().api().get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('/ready answers 200 when the database is reachable', async () => {
    const res = await app().api().get('/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', database: 'up', redis: 'off' });
  });

  test('/metrics shows request latency by route pattern, messages sent and the pool', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await sendMessage(app(), alice, bob, 'one');
    await app().api().get('/api/chat/conversations/1').set(bearer(alice));
    const res = await app().api().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toMatch(/duet_http_request_duration_seconds_count\{method="POST",route="\/api\/chat\/send",status="201"\} 1/);
    expect(res.text).toContain('route="/api/chat/conversations/:id"');
    expect(res.text).toMatch(/duet_messages_sent_total \d+/);
    expect(res.text).toContain('duet_db_pool_size');
  });

  test('every response carries a request id, and a sane incoming one is kept', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const generated = await app().api().get('/api/chat/unread-count').set(bearer(alice));
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await app().api().get('/api/chat/unread-count').set(bearer(alice)).set('X-Request-Id', 'trace-123');
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const replaced = await app().api().get('/api/chat/unread-count').set(bearer(alice)).set('X-Request-Id', 'has spaces and /slashes');
    expect(replaced.headers['x-request-id']).not.toBe('has spaces and /slashes');
  });
});

describe('when the database is unreachable', () => {
  test('/ready answers 503 and API calls answer UNAVAILABLE, not 500', async () => {
    const port = await freePort();
    const chat = await createChat({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/nothing`,
      auth: { secret: TEST_JWT_SECRET },
      logger: createLogger('error', true),
      migrate: false,
      processMetrics: false,
    });
    try {
      const app = createApp(chat);
      const ready = await request(app).get('/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'unavailable', database: 'down', redis: 'off' });
      const api = await request(app).get('/api/chat/unread-count').set(bearer(1));
      expect(api.status).toBe(503);
      expect(api.body.error.code).toBe('UNAVAILABLE');
    } finally {
      await chat.close();
    }
  });
});
