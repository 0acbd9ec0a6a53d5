import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { connectionOf, poolStats } from '../../src/db/sequelize-internals';
import { responseBegunOn } from '../../src/http/client-error';
import { createExpressServer } from '../../src/http/express-server';
import { recoveryPacketsOf, tcpSocketOf, writeEventPacket } from '../../src/realtime/socket-io-internals';
import { createCast } from '../helpers/factories';
import { connectAs, nextEvent } from '../helpers/sockets';
import { useTestApp } from '../helpers/test-app';

/**
 * Duet reaches under a few dependencies where their public API has no door (issue 15): Sequelize's
 * connection manager and a transaction's connection (src/db/sequelize-internals.ts), Socket.IO's recovery buffer, its
 * socket's packet writer and the TCP socket under engine.io's WebSocket (all three in
 * src/realtime/socket-io-internals.ts), Express's prototypes (src/http/express-server.ts) and the
 * response Node keeps on a connection (src/http/client-error.ts). Each reach is checked here against
 * the installed versions (and the running Node), so that an upgrade that moves one fails this file,
 * not production; the streams adapter has its own (cluster-adapter.test.ts). Every dependency is
 * pinned to an exact version.
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

  test('Socket.IO: the recovery buffer keeps the replayed packets in an array, a socket writes an event packet, and a WebSocket one has a TCP socket', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const client = await connectAs(app(), alice);
    const { io } = app().realtime;
    const adapter = io.of('/').adapter as Parameters<typeof recoveryPacketsOf>[0];
    const before = recoveryPacketsOf(adapter).length;
    io.to('nobody').emit('presence', { userId: 0, online: false, lastSeenAt: null });
    io.to('nobody').emit('message_deleted', { messageId: 1, conversationId: 1 });
    const packets = recoveryPacketsOf(adapter);
    expect(Array.isArray(packets)).toBe(true);
    expect(packets.length).toBe(before + 1);
    expect(JSON.stringify(packets.at(-1))).toContain('message_deleted');

    const socket = io.of('/').sockets.get(client.id!)!;
    const written = nextEvent(client, 'message_deleted');
    writeEventPacket(socket, ['message_deleted', { messageId: 2, conversationId: 1 }]);
    expect(await written).toEqual({ messageId: 2, conversationId: 1 });
    expect(tcpSocketOf(socket)).toBeInstanceOf(net.Socket);
  });

  test("Node: a connection's response counts as begun once its headers are sent, not before", async () => {
    const host = express();
    host.get('/', (req, res) => {
      const before = responseBegunOn(req.socket);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      res.end(JSON.stringify({ before, after: responseBegunOn(req.socket) }));
    });
    const server = createExpressServer(host);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).get('/');
      expect(res.body).toEqual({ before: false, after: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
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
