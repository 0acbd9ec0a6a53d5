import { io, type Socket } from 'socket.io-client';
import type { BenchUser, ChildMessage, IdleResult, ParentMessage } from './protocol';

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

/** A client process's reply to the orchestrator. */
/** Connects every user (`concurrency` at a time) with `open`, counting who connected and why the others did not. */
export async function connectEach(users: readonly BenchUser[], concurrency: number, open: (user: BenchUser) => Promise<void>): Promise<IdleResult> {
  const result: IdleResult = { connected: 0, failed: 0, errors: {}, startedAt: Date.now(), finishedAt: 0 };
  await pool(users, concurrency, async (user) => {
    try {
      await open(user);
      result.connected++;
      result.finishedAt = Date.now();
    } catch (err) {
      result.failed++;
      const code = (err as { code?: string }).code ?? 'CONNECT_FAILED';
      result.errors[code] = (result.errors[code] ?? 0) + 1;
    }
  });
  if (!result.finishedAt) result.finishedAt = Date.now();
  return result;
}

export const send = (message: ChildMessage) => process.send!(message);

/**
 * The loop of a client process: each message from the orchestrator goes to `handle`, and a
 * failure (thrown, or rejected later through the returned `fail`) is reported as `failed`. The
 * process leaves when the orchestrator dies, rather than linger with thousands of open sockets.
 */
export function serveOrchestrator(handle: (message: ParentMessage, fail: (err: unknown) => void) => void): void {
  process.on('message', (message: ParentMessage) => {
    const fail = (err: unknown) => send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    try {
      handle(message, fail);
    } catch (err) {
      fail(err);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** Closes the sockets, tells the orchestrator, and leaves once the close frames are out. */
export function closeAndExit(sockets: Iterable<Socket>): void {
  for (const socket of sockets) socket.disconnect();
  send({ type: 'closed' });
  setTimeout(() => process.exit(0), 200);
}
