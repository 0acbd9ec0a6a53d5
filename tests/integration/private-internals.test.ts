import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { connectionOf, poolStats } from '../../src/db/sequelize-internals';
import { createExpressServer } from '../../src/http/express-server';
import { tcpSocketOf } from '../../src/realtime/write-coalescing';
import { createCast } from '../helpers/factories';
import { connectAs } from '../helpers/sockets';
import { useTestApp } from '../helpers/test-app';

/**
 * Duet reaches under a few dependencies where their public API has no door (issue 15): Sequelize's
 * connection manager (src/db/sql.ts, src/db/sequelize.ts), Socket.IO's recovery buffer and its
 * socket's packet writer (src/realtime/recovery-buffer.ts, recovery.ts), the TCP socket under
 * engine.io's WebSocket (src/realtime/write-coalescing.ts) and Express's prototypes
 * (src/http/express-server.ts). Each reach is checked here against the installed versions, so that
 * an upgrade that moves them fails this file, not production; the streams adapter has its own
 * (cluster-adapter.test.ts). Every dependency is pinned to an exact version.
 */
describe('what Duet reaches under its dependencies is where it expects', () => {
  const app = useTestApp();

  test('Sequelize: the connection manager lends and takes back connections, and its pool reports its figures', async () => {
    const manager = app().chat.sequelize.connectionManager as unknown as Record<string, unknown> & { config?: { pool?: { acquire?: unknown } } };
    for (const method of ['getConnection', 'releaseConnection', 'destroyConnection']) expect(typeof manager[method]).toBe('function');
    expect(typeof manager.config?.pool?.acquire).toBe('number');
    const stats = poolStats(app().chat.sequelize);
    for (const figure of Object.values(stats)) expect(Number.isInteger(figure)).toBe(true);
    await app().chat.sequelize.query('SELECT 1');
    expect(poolStats(app().chat.sequelize).size).toBeGreaterThan(0);
  });

  test("Sequelize: a transaction's connection is where its own statements run", async () => {
    const { sequelize } = app().chat;
    await sequelize.transaction(async (transaction) => {
      const [[viaSequelize]] = (await sequelize.query('SELECT txid_current() AS id', { transaction })) as [[{ id: string }], unknown];
      const { rows } = await connectionOf(transaction).query('SELECT txid_current() AS id');
      expect(rows).toEqual([{ id: viaSequelize!.id }]);
    });
  });

  test('Socket.IO: the recovery buffer keeps its packets in an array, a socket writes packets, and a WebSocket one has a TCP socket', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const client = await connectAs(app(), alice);
    const { io } = app().realtime;
    io.to('nobody').emit('presence', { userId: 0, online: false, lastSeenAt: null });
    io.to('nobody').emit('message_deleted', { messageId: 1, conversationId: 1 });
    expect(Array.isArray((io.of('/').adapter as unknown as { packets?: unknown }).packets)).toBe(true);
    const socket = io.of('/').sockets.get(client.id!)!;
    expect(typeof (socket as unknown as { packet?: unknown }).packet).toBe('function');
    expect(tcpSocketOf(socket)).toBeInstanceOf(net.Socket);
  });

  test('Express: a request made by createExpressServer keeps the app\'s prototype, as Express sets it', async () => {
    const host = express();
    host.get('/', (req, res) => {
      res.json({ appPrototype: Object.getPrototypeOf(req) === host.request, incoming: req instanceof http.IncomingMessage });
    });
    const server = createExpressServer(host);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).get('/');
      expect(res.body).toEqual({ appPrototype: true, incoming: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('every dependency is pinned to an exact version', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as Record<string, Record<string, string>>;
    const ranges = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.optionalDependencies }).filter(
      ([, version]) => !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version),
    );
    expect(ranges).toEqual([]);
  });
});
