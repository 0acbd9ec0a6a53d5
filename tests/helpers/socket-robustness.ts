import { io as connectClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import type { ChatOptions } from '../../src/chat';

import type { PresenceJson } from '../../src/presence/presence.service';
import type { ErrorBody } from '../../src/shared/errors';
import { type ClientSocket, connectAs, nextEvent, letStrayEventsArrive } from './sockets';
import { eventually } from './waiting';
import { GENEROUS_RATES, type TestApp, tokenFor, useTestApp } from './test-app';

/** What the socket robustness tests share (tests/integration/socket-*.test.ts). */

export type AckJson = { ok: true } & Record<string, unknown> | { ok: false; error: ErrorBody };
export type ConnectError = Error & { data?: { code?: string } };

/**
 * Nothing a client sends may leave a promise rejection unhandled: the listener is registered before
 * the file's tests, and the file's last test checks what it heard.
 */
export function checkNoUnhandledRejections(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    // Registered here, not at load time: Jest swaps the process's rejection listeners when the run
    // starts, and would drop one added while the file is being loaded.
    process.on('unhandledRejection', onUnhandled);
    expect(process.listeners('unhandledRejection')).toContain(onUnhandled);
  });
  test('no client input ever caused an unhandled promise rejection', async () => {
    // A rejection of a call still in flight would come within this.
    await letStrayEventsArrive();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
}

/** Clients opened with options connectAs does not take (closed by useSocketApp after each test). */
const extraClients = new Set<ClientSocket>();

export function openClient(t: TestApp, options: Partial<ManagerOptions & SocketOptions>): ClientSocket {
  const socket = connectClient(t.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  extraClients.add(socket);
  return socket;
}

export function closeExtraClients(): void {
  for (const socket of extraClients) socket.disconnect();
  extraClients.clear();
}

/** Connected, or refused with the handshake's error. */
export function outcome(socket: ClientSocket): Promise<{ connected: true } | { error: ConnectError }> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true }));
    socket.once('connect_error', (error: ConnectError) => resolve({ error }));
  });
}

/** A client that reconnects by itself after a transport loss, like a browser or a phone. */
export async function reconnectingClient(t: TestApp, userId: number): Promise<ClientSocket> {
  const socket = openClient(t, {
    auth: { token: tokenFor(userId) },
    reconnection: true,
    reconnectionDelay: 300,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
  });
  const result = await outcome(socket);
  if (!('connected' in result)) throw result.error;
  return socket;
}

export async function userSocketCount(t: TestApp, userId: number): Promise<number> {
  return (await t.realtime.io.in(`user_${userId}`).fetchSockets()).length;
}

/** Waits until the server has seen every socket of the user go. */
export async function serverSawLeave(t: TestApp, userId: number): Promise<void> {
  await eventually(async () => (await userSocketCount(t, userId)) === 0, `user ${userId}'s sockets gone from the server`);
}

/** Connects the user and waits until `watcher`, a conversation partner, hears them come online. */
export async function comeOnline(t: TestApp, userId: number, watcher: ClientSocket): Promise<ClientSocket> {
  const online = nextEvent<PresenceJson>(watcher, 'presence');
  const socket = await connectAs(t, userId);
  await online;
  return socket;
}

/** Closes the user's last socket and resolves with the offline announcement `watcher` hears. */
export async function goOffline(socket: ClientSocket, watcher: ClientSocket): Promise<PresenceJson> {
  const offline = nextEvent<PresenceJson>(watcher, 'presence', 1000);
  socket.disconnect();
  return offline;
}

/** Drops the client's transport as a lost network would (no disconnect packet is sent). */
export async function dropTransport(socket: ClientSocket): Promise<void> {
  const gone = nextEvent<string>(socket, 'disconnect');
  socket.io.engine.close();
  await gone;
}

export function expectValidationAck(ack: AckJson, label: string): void {
  expect({ label, ok: ack.ok, code: ack.ok ? undefined : ack.error.code }).toEqual({ label, ok: false, code: 'VALIDATION_FAILED' });
  if (ack.ok) return;
  expect(Object.keys(ack).sort()).toEqual(['error', 'ok']);
  expect(typeof ack.error.message).toBe('string');
  expect(ack.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(ack.error)) expect(['code', 'message', 'details']).toContain(key);
}

/** useTestApp with generous limits, plus closing the clients openClient opened. */
export function useSocketApp(overrides: Partial<ChatOptions> = {}): () => TestApp {
  const app = useTestApp({ limits: { rates: GENEROUS_RATES }, ...overrides });
  afterEach(() => closeExtraClients());
  return app;
}

