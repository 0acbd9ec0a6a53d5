import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createExpressServer } from '../../src/http/express-server';
import { createChat, type Chat, type ChatOptions } from '../../src/chat';
import { createLogger } from '../../src/shared/logger';
import type { Realtime } from '../../src/realtime/realtime';
import { resetData } from './factories';
import { RATE_CLASSES, type RateLimits } from '../../src/limits/rate-classes';
import { disconnectAll } from './sockets';
import { checkedAgainstOpenApi, takeOpenApiViolations } from './openapi-check';
import { eventually } from './waiting';

/** For files whose subject is not fair use but that call one door hundreds of times per user. */
export const GENEROUS_RATES = Object.fromEntries(RATE_CLASSES.map((rateClass) => [rateClass, { burst: 1e9, perSecond: 1e9 }])) as RateLimits;

export const TEST_JWT_SECRET = 'duet-test-secret-that-is-long-enough-0123456789';

export interface TestApp {
  chat: Chat;
  app: Express;
  realtime: Realtime;
  /** A real HTTP server on an ephemeral port (for socket clients); supertest can use `app` directly. */
  server: http.Server;
  baseUrl: string;
  api: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/** A full Duet over the test database, listening on port 0. */
export async function startTestApp(overrides: Partial<ChatOptions> = {}): Promise<TestApp> {
  const chat = await createChat({
    databaseUrl: process.env.DATABASE_URL!,
    auth: { secret: TEST_JWT_SECRET },
    logger: createLogger('error', process.env.DUET_TEST_LOGS !== '1'),
    migrate: false,
    userCacheMs: 0,
    processMetrics: false,
    attachments: { directory: fs.mkdtempSync(path.join(os.tmpdir(), 'duet-test-files-')) },
    ...overrides,
  });
  const app = checkedAgainstOpenApi(createApp(chat));
  const server = createExpressServer(app);
  const realtime = chat.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    chat,
    app,
    realtime,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    api: () => request(server),
    close: async () => {
      await realtime.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await chat.close();
    },
  };
}

/**
 * One app for the enclosing describe (or file): started before its tests, closed after them, and
 * nothing per test, which suits a second app inside a block whose useTestApp already resets the
 * shared database. The getter works in hooks and tests, not while the file is being loaded.
 */
export function useStartedApp(overrides: Partial<ChatOptions> = {}): () => TestApp {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startTestApp(overrides);
  });
  afterAll(async () => {
    await app?.close();
    // Every /api/chat answer of this file's tests matched the OpenAPI document (tests/helpers/openapi-check.ts).
    expect(takeOpenApiViolations().violations).toEqual([]);
  });
  return () => {
    if (!app) throw new Error('the test app is not started yet (call the getter inside a hook or test)');
    return app;
  };
}

/**
 * The lifecycle most test files need: useStartedApp, plus empty tables before each test (so no test
 * depends on another's data) and the test's sockets closed after it.
 */
export function useTestApp(overrides: Partial<ChatOptions> = {}): () => TestApp {
  const app = useStartedApp(overrides);
  beforeEach(() => resetAfterSocketsLeave([app()]));
  afterEach(() => disconnectAll());
  return app;
}

/**
 * Empties the tables once the previous test's sockets have left these servers: the periodic user
 * check would otherwise find their users gone after the reset and refuse the next test's users,
 * who get the same ids. A socket a test left open on purpose is waited for one second, no more.
 */
export async function resetAfterSocketsLeave(servers: TestApp[]): Promise<void> {
  const gone = () => servers.every((server) => server.realtime.io.of('/').sockets.size === 0);
  await eventually(gone, "the previous test's sockets gone", 1000).catch(() => undefined);
  await resetData(servers[0]!.chat.sequelize);
}

/** A host-style token: HS256, user id in `sub` (as a string, like most issuers). */
export function tokenFor(userId: number, options: { admin?: boolean; secret?: string; claims?: object; expiresIn?: number } = {}): string {
  return jwt.sign(
    { sub: String(userId), ...(options.admin ? { role: 'admin' } : {}), ...options.claims },
    options.secret ?? TEST_JWT_SECRET,
    { algorithm: 'HS256', expiresIn: options.expiresIn ?? 3600 },
  );
}

export const bearer = (userId: number, options?: Parameters<typeof tokenFor>[1]) => ({
  Authorization: `Bearer ${tokenFor(userId, options)}`,
});

/**
 * A new app for every test, on emptied tables: for tests of state the app keeps in memory, such as
 * fair-use buckets, which would otherwise carry over (user ids restart with every reset).
 */
export function useAppPerTest(overrides: Partial<ChatOptions> = {}): () => TestApp {
  const app = usePerTest('the test app', () => startTestApp(overrides), (app) => app.chat.sequelize);
  afterAll(() => expect(takeOpenApiViolations().violations).toEqual([]));
  return app;
}

/** Something started afresh before every test, on emptied tables, and closed after it with the test's sockets. */
export function usePerTest<T extends { close(): Promise<void> }>(what: string, start: () => Promise<T>, database: (started: T) => Sequelize): () => T {
  let current: T | undefined;
  beforeEach(async () => {
    current = await start();
    await resetData(database(current));
  });
  afterEach(async () => {
    disconnectAll();
    await current?.close();
  });
  return () => {
    if (!current) throw new Error(`${what} is not started yet (call the getter inside a hook or test)`);
    return current;
  };
}
