import { io as connectClient, type Socket } from 'socket.io-client';
import type { TestApp } from './test-app';
import { tokenFor } from './test-app';
import { letTimePass } from './waiting';

export type ClientSocket = Socket;

const clients = new Set<ClientSocket>();

export interface ConnectOptions {
  token?: string;
  /** socket.io-client's own reconnection (quick retries here), as an application's client has it; off by default. */
  reconnect?: boolean;
}

/** A connected socket.io-client for the user (websocket transport, real handshake with a JWT). */
export function connectAs(t: TestApp, userId: number, options: ConnectOptions & { url?: string } = {}): Promise<ClientSocket> {
  return connectTo(options.url ?? t.baseUrl, userId, options);
}

/** connectAs for any URL (a node in another process, a proxy or balancer in front of nodes). */
export async function connectTo(url: string, userId: number, options: ConnectOptions = {}): Promise<ClientSocket> {
  const socket = connectClient(url, {
    auth: { token: options.token ?? tokenFor(userId) },
    transports: ['websocket'],
    reconnection: options.reconnect ?? false,
    // Reconnecting clients come back quickly, so failover tests stay short.
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    forceNew: true,
  });
  clients.add(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** Closes every client this helper opened (call in afterEach). */
export function disconnectAll(): void {
  for (const socket of clients) socket.disconnect();
  clients.clear();
}

/** Emits with an ack and resolves with the ack's response. */
export function emitAck<T = Record<string, unknown>>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<T>;
}

/** Resolves with the next `event` the socket receives, or rejects after `ms`. */
export function nextEvent<T = Record<string, unknown>>(socket: ClientSocket, event: string, ms = 3000): Promise<T> {
  return nextEventWhere<T>(socket, event, () => true, ms);
}

/** Resolves with the next `event` whose payload passes `matches`, or rejects after `ms`. */
export function nextEventWhere<T = Record<string, unknown>>(socket: ClientSocket, event: string, matches: (payload: T) => boolean, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`no matching ${event} within ${ms} ms`));
    }, ms);
    const onEvent = (payload: T) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      socket.off(event, onEvent);
      resolve(payload);
    };
    socket.on(event, onEvent);
  });
}

/** The socket's next drop and its own reconnection after it: why it dropped, and whether its state was recovered. */
export function nextReconnect(socket: ClientSocket, ms = 10_000): Promise<{ reason: string; recovered: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no disconnect and reconnect within ${ms} ms`)), ms);
    socket.once('disconnect', (reason) => {
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve({ reason, recovered: socket.recovered });
      });
    });
  });
}

/** Records every `event` the socket receives from now on. */
export function record<T = Record<string, unknown>>(socket: ClientSocket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (payload: T) => seen.push(payload));
  return seen;
}

/**
 * How long an event already in flight on loopback may take to arrive. Waited out only before
 * asserting that something was NOT received, once a positive event has proven delivery works.
 */
export const STRAY_EVENT_MS = 150;

/**
 * The bounded wait of a test that proves an event does not come: STRAY_EVENT_MS, or longer where a
 * stray event would follow database work or a hop between nodes.
 */
export function letStrayEventsArrive(ms = STRAY_EVENT_MS): Promise<void> {
  return letTimePass(ms);
}
