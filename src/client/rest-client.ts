import { DuetApiError, networkError } from './errors';
import { newClientMessageId, type RetryOptions, withRetries } from './retries';
import type { TokenSource } from './token-source';
import type {
  AdminMessageJson,
  AttachmentJson,
  AuditEntryJson,
  ConversationJson,
  ConversationPage,
  ErrorBody,
  HistoryPage,
  MessageJson,
  ReadMark,
  SendInput,
  Sent,
  UnreadCounts,
} from './types';

type Query = Record<string, string | number | undefined>;

/** The REST half of the contract (API.md, "REST"), typed; every call carries the current token. */
export class RestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: TokenSource,
    private readonly fetchImpl: typeof fetch,
    private readonly retry: RetryOptions,
  ) {}

  /** POST /send with a clientMessageId, retried with the same id while the failure is temporary. */
  send(input: SendInput): Promise<Sent> {
    const body = { ...input, clientMessageId: input.clientMessageId ?? newClientMessageId() };
    return withRetries(() => this.call<Sent>('POST', '/send', { body }), this.retry);
  }

  openConversation(participantId: number): Promise<{ conversation: ConversationJson }> {
    return this.call('POST', '/conversations', { body: { participantId } });
  }

  listConversations(query: { limit?: number; cursor?: string } = {}): Promise<ConversationPage> {
    return this.call('GET', '/conversations', { query });
  }

  getConversation(id: number): Promise<{ conversation: ConversationJson }> {
    return this.call('GET', `/conversations/${id}`);
  }

  history(conversationId: number, query: { limit?: number; before?: number; after?: number } = {}): Promise<HistoryPage> {
    return this.call('GET', `/conversations/${conversationId}/messages`, { query });
  }

  markRead(conversationId: number, upToMessageId?: number): Promise<ReadMark> {
    return this.call('POST', `/conversations/${conversationId}/read`, { body: upToMessageId === undefined ? {} : { upToMessageId } });
  }

  unreadCount(): Promise<UnreadCounts> {
    return this.call('GET', '/unread-count');
  }

  deleteMessage(id: number): Promise<void> {
    return this.call('DELETE', `/messages/${id}`);
  }

  search(query: { q: string; conversationId?: number; limit?: number }): Promise<{ messages: MessageJson[] }> {
    return this.call('GET', '/search', { query });
  }

  uploadAttachment(file: Blob, name: string): Promise<{ attachment: AttachmentJson }> {
    const form = new FormData();
    form.append('file', file, name);
    return this.call('POST', '/attachments', { form });
  }

  /** The bytes of an attachment (its `url` needs the token, so a plain link does not do). */
  async downloadAttachment(id: number): Promise<Blob> {
    const res = await this.request('GET', `/attachments/${id}`, {});
    return res.blob();
  }

  readonly admin = {
    listMessages: (query: { deleted?: 'only' | 'include' | 'exclude'; conversationId?: number; senderId?: number; since?: string; until?: string; before?: number; limit?: number } = {}) =>
      this.call<{ messages: AdminMessageJson[] }>('GET', '/admin/messages', { query }),
    restore: (id: number, reason?: string) => this.call<{ message: AdminMessageJson }>('POST', `/admin/messages/${id}/restore`, { body: reason === undefined ? {} : { reason } }),
    purge: (id: number, reason?: string) => this.call<void>('DELETE', `/admin/messages/${id}`, { body: reason === undefined ? {} : { reason } }),
    auditLog: (query: { messageId?: number; actorId?: number; before?: number; limit?: number } = {}) =>
      this.call<{ entries: AuditEntryJson[] }>('GET', '/admin/audit-log', { query }),
  };

  private async call<T>(method: string, path: string, options: { query?: Query; body?: object; form?: FormData } = {}): Promise<T> {
    const res = await this.request(method, path, options);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** One request; a 401 gets one more try with a refreshed token. Failures throw DuetApiError. */
  private async request(method: string, path: string, options: { query?: Query; body?: object; form?: FormData }, refreshed = false): Promise<Response> {
    const url = `${this.baseUrl}/api/chat${path}${queryString(options.query)}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.tokens.current()}` };
    let body: string | FormData | undefined = options.form;
    if (options.body) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body });
    } catch (err) {
      throw networkError(err);
    }
    if (res.ok) return res;
    if (res.status === 401 && !refreshed && (await this.tokens.refresh()) !== undefined) return this.request(method, path, options, true);
    throw new DuetApiError(res.status, await errorBodyOf(res));
  }
}

function queryString(query: Query | undefined): string {
  const pairs = Object.entries(query ?? {}).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  return pairs.length ? `?${new URLSearchParams(pairs.map(([key, value]): [string, string] => [key, String(value)]))}` : '';
}

async function errorBodyOf(res: Response): Promise<ErrorBody> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: ErrorBody };
    if (parsed.error?.code) return parsed.error;
  } catch {
    // Not the envelope (a proxy's page, say): described below.
  }
  return { code: res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL', message: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}
