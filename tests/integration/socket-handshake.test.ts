import { type ManagerOptions, type SocketOptions } from 'socket.io-client';
import type { Sent } from '../helpers/contract';
import { createCast, sendMessage } from '../helpers/factories';
import { connectAs, nextEvent, record, letStrayEventsArrive } from '../helpers/sockets';
import { TEST_JWT_SECRET, tokenFor } from '../helpers/test-app';
import { checkNoUnhandledRejections, openClient, outcome, useSocketApp } from '../helpers/socket-robustness';

/**
 * The socket door's handshake: who may connect, and how a refusal reads.
 * Real PostgreSQL, a real Socket.IO server on port 0 and socket.io-client; nothing is mocked.
 */

checkNoUnhandledRejections();

describe('handshake authentication', () => {
  const app = useSocketApp();

  test('a token in auth.token connects and the socket is already in its user room', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    const b = openClient(app(), { auth: { token: tokenFor(bob) } });
    expect(await outcome(b)).toEqual({ connected: true });
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'no join needed');
    expect((await received).message.content).toBe('no join needed');
  });

  test('a token in the Authorization header connects as that user', async () => {
    const { alice, bob, stranger } = await createCast(app().chat.sequelize);
    const b = openClient(app(), { extraHeaders: { Authorization: `Bearer ${tokenFor(bob)}` } });
    const s = openClient(app(), { extraHeaders: { Authorization: `Bearer ${tokenFor(stranger)}` } });
    expect(await outcome(b)).toEqual({ connected: true });
    expect(await outcome(s)).toEqual({ connected: true });
    const strangerSaw = record(s, 'new_message');
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'via header');
    expect((await received).message.content).toBe('via header');
    await letStrayEventsArrive();
    expect(strangerSaw).toEqual([]);
  });

  const refusals: [string, (ids: { bob: number }) => Partial<SocketOptions & ManagerOptions>][] = [
    ['no token at all', () => ({})],
    ['an empty auth.token', () => ({ auth: { token: '' } })],
    ['a garbage auth.token', () => ({ auth: { token: 'not-a-jwt' } })],
    ['a token that is not a string', () => ({ auth: { token: 12345 } })],
    ['an expired token', ({ bob }) => ({ auth: { token: tokenFor(bob, { expiresIn: -60 }) } })],
    ['a token signed with another secret', ({ bob }) => ({ auth: { token: tokenFor(bob, { secret: `${TEST_JWT_SECRET}-other` }) } })],
    ['a token for a user who does not exist', () => ({ auth: { token: tokenFor(987654) } })],
    ['a token whose sub is not a user id', () => ({ auth: { token: tokenFor(1, { claims: { sub: 'bob' } }) } })],
    ['a garbage Authorization header', () => ({ extraHeaders: { Authorization: 'Bearer not-a-jwt' } })],
    ['an Authorization header without the Bearer scheme', ({ bob }) => ({ extraHeaders: { Authorization: tokenFor(bob) } })],
    ['an expired token in the Authorization header', ({ bob }) => ({ extraHeaders: { Authorization: `Bearer ${tokenFor(bob, { expiresIn: -60 })}` } })],
  ];

  test.each(refusals)('%s is refused with connect_error UNAUTHORIZED', async (_label, options) => {
    const { bob } = await createCast(app().chat.sequelize);
    const socket = openClient(app(), options({ bob }));
    const result = await outcome(socket);
    expect('error' in result).toBe(true);
    if (!('error' in result)) return;
    expect(result.error.data).toEqual({ code: 'UNAUTHORIZED' });
    expect(typeof result.error.message).toBe('string');
    expect(result.error.message.length).toBeGreaterThan(0);
    expect(result.error.message).not.toMatch(/jwt|stack|SELECT/i);
    expect(socket.connected).toBe(false);
  });

  test('a refused handshake leaves the server serving everyone else', async () => {
    const { alice, bob } = await createCast(app().chat.sequelize);
    await outcome(openClient(app(), { auth: { token: 'garbage' } }));
    const b = await connectAs(app(), bob);
    const received = nextEvent<Sent>(b, 'new_message');
    await sendMessage(app(), alice, bob, 'after a refusal');
    expect((await received).message.content).toBe('after a refusal');
  });
});
