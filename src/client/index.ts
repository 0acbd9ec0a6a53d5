/**
 * duet-chat/client: a typed client of the contract for Node and browsers (README, "Integrating with
 * your back end"). REST calls and socket events are typed; sends carry a clientMessageId that
 * retries reuse; after a reconnect the server could not recover, each conversation catches up with
 * `after=`; a 401 or `session_expired` asks `refreshToken` for a fresh token.
 */
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { LiveClient } from './live-client';
import { RestClient } from './rest-client';
import type { RetryOptions } from './retries';
import { type TokenOptions, TokenSource } from './token-source';

export interface DuetClientOptions extends TokenOptions {
  /** Where Duet is served, e.g. `https://chat.example.com`; '' in a page served by Duet itself. */
  baseUrl: string;
  /** Retries of sends (REST and socket): attempts and the first wait. */
  retry?: RetryOptions & { ackTimeoutMs?: number };
  /** Default: the global fetch (Node 20 and browsers). */
  fetch?: typeof fetch;
  /** Passed to socket.io-client's io() (the token is set by the client). */
  socket?: Partial<ManagerOptions & SocketOptions>;
}

export interface DuetClient {
  rest: RestClient;
  /** Not connected until live.connect(). */
  live: LiveClient;
}

export function createDuetClient(options: DuetClientOptions): DuetClient {
  const tokens = new TokenSource(options);
  const retry = options.retry ?? {};
  const rest = new RestClient(options.baseUrl, tokens, options.fetch ?? globalThis.fetch.bind(globalThis), retry);
  const live = new LiveClient(options.baseUrl, tokens, rest, retry, options.socket);
  return { rest, live };
}

export { DuetApiError } from './errors';
export { newClientMessageId, type RetryOptions } from './retries';
export type { TokenOptions } from './token-source';
export type { DuetSocket, IncomingMessage, LiveClient } from './live-client';
export type { RestClient } from './rest-client';
export type * from './types';
