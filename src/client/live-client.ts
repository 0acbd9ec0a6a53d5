import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { DuetApiError } from './errors';
import type { RestClient } from './rest-client';
import { newClientMessageId, type RetryOptions, withRetries } from './retries';
import type { TokenSource } from './token-source';
import type { AckOf, ClientEventMap, ClientEventName, ClientToServerEvents, ConversationJson, MessageJson, SendInput, Sent, ServerToClientEvents } from './types';

export type DuetSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A message the user should see once: from `new_message`, or fetched by the catch-up after a reconnect (no conversation then). */
export interface IncomingMessage {
  message: MessageJson;
  conversation?: ConversationJson;
}

/** How many message ids per conversation are remembered to drop a second copy. */
const REMEMBERED_IDS = 500;
const DEFAULT_ACK_TIMEOUT_MS = 10_000;

/**
 * The socket half: typed events, sends with retries, and the two things clients otherwise get
 * wrong: catching up with `after=` for each conversation after a reconnect that the server could
 * not recover (without duplicates), and a fresh token on `session_expired`.
 */
export class LiveClient {
  readonly socket: DuetSocket;
  private readonly handlers = new Set<(incoming: IncomingMessage) => void>();
  /** Per followed conversation: the highest id seen (the catch-up cursor) and the recent ids seen. */
  private readonly followed = new Map<number, { highest: number; seen: Set<number> }>();
  private connectedBefore = false;

  constructor(
    baseUrl: string,
    private readonly tokens: TokenSource,
    private readonly rest: RestClient,
    private readonly retry: RetryOptions & { ackTimeoutMs?: number },
    socketOptions: Partial<ManagerOptions & SocketOptions> = {},
  ) {
    this.socket = io(baseUrl, {
      autoConnect: false,
      transports: ['websocket'],
      ...socketOptions,
      // Asked on every (re)connect, so a refreshed token is used from then on.
      auth: (cb) => void this.tokens.current().then((token) => cb({ token }), () => cb({})),
    });
    this.socket.on('new_message', (event) => this.deliver(event));
    this.socket.on('connect', () => void this.onConnect());
    this.socket.on('session_expired', () => void this.renewSession());
    this.socket.on('connect_error', (err) => {
      if ((err as Error & { data?: { code?: string } }).data?.code === 'UNAUTHORIZED') void this.renewSession();
    });
  }

  connect(): this {
    this.socket.connect();
    return this;
  }

  close(): void {
    this.socket.disconnect();
  }

  /** Every message once, live or caught up, for the conversations seen or followed. */
  onMessage(handler: (incoming: IncomingMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Catch up on this conversation after reconnects, from `lastSeenId` (default: what arrives from now on). */
  follow(conversationId: number, lastSeenId = 0): void {
    const entry = this.followed.get(conversationId);
    if (!entry) this.followed.set(conversationId, { highest: lastSeenId, seen: new Set() });
    else entry.highest = Math.max(entry.highest, lastSeenId);
  }

  /** One event with its ack; an error ack or no ack within the timeout throws DuetApiError. */
  async request<E extends ClientEventName>(event: E, payload: ClientEventMap[E][0]): Promise<ClientEventMap[E][1]> {
    let response: AckOf<E>;
    try {
      // Socket.IO's typing of emitWithAck does not follow a generic event name; the map above does.
      const timed = this.socket.timeout(this.retry.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS) as unknown as { emitWithAck(event: E, payload: unknown): Promise<AckOf<E>> };
      response = await timed.emitWithAck(event, payload);
    } catch {
      throw new DuetApiError(0, { code: 'UNAVAILABLE', message: `No answer to ${event} in time` });
    }
    if (!response.ok) throw new DuetApiError(0, response.error);
    const { ok: _ok, ...data } = response;
    return data as ClientEventMap[E][1];
  }

  /** send_message with a clientMessageId, retried with the same id while the failure is temporary. */
  async sendMessage(input: SendInput): Promise<Sent> {
    const payload = { ...input, clientMessageId: input.clientMessageId ?? newClientMessageId() };
    const sent = await withRetries(() => this.request('send_message', payload), this.retry);
    this.follow(sent.conversation.id);
    this.remember(sent.message);
    return sent;
  }

  private deliver(incoming: IncomingMessage): void {
    if (!this.remember(incoming.message)) return;
    for (const handler of this.handlers) handler(incoming);
  }

  /** Records a message as seen; false if it was already. */
  private remember(message: MessageJson): boolean {
    this.follow(message.conversationId);
    const entry = this.followed.get(message.conversationId)!;
    if (entry.seen.has(message.id)) return false;
    entry.seen.add(message.id);
    if (entry.seen.size > REMEMBERED_IDS) entry.seen.delete(entry.seen.values().next().value!);
    entry.highest = Math.max(entry.highest, message.id);
    return true;
  }

  private async onConnect(): Promise<void> {
    const reconnect = this.connectedBefore;
    this.connectedBefore = true;
    // A recovered session got every missed event replayed; otherwise fetch what came meanwhile.
    if (!reconnect || this.socket.recovered) return;
    for (const [conversationId, entry] of this.followed) {
      for (let hasMore = true; hasMore; ) {
        const page = await this.rest.history(conversationId, { after: entry.highest, limit: 100 }).catch(() => undefined);
        if (!page) return; // Offline again: the next connect catches up from the same cursor.
        for (const message of page.messages) this.deliver({ message });
        hasMore = page.hasMore && page.messages.length > 0;
      }
    }
  }

  /** The token ended (or was refused): get a fresh one and connect again with it. */
  private async renewSession(): Promise<void> {
    const token = await this.tokens.refresh().catch(() => undefined);
    if (token === undefined) return;
    if (this.socket.connected) await new Promise((resolve) => this.socket.once('disconnect', resolve));
    this.socket.connect();
  }
}
