import { io, type Socket } from 'socket.io-client';
import type { BenchUser } from './protocol';

/** Opening client sockets as N separate users would, shared by the load-generator processes. */

/** Every benchmark message: 62 characters. */
export const CONTENT = 'benchmark message: the quick brown fox jumps over the lazy dog';

export function connect(url: string, user: BenchUser): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // forceNew: one WebSocket per socket; by default socket.io-client multiplexes all sockets to the
    // same URL over one connection, which is not what N users do.
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 60_000, auth: { token: user.token } });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(Object.assign(new Error(err.message), { code: err.data?.code ?? err.message }));
    });
  });
}

/** Runs `work` over items with at most `limit` at once. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
