import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/*
 * A host's webhook endpoint, real and in the test process: it checks every request's signature
 * with the Standard Webhooks library a host would use and records what it got. Its answers are
 * scripted per attempt (a status, or no answer at all).
 */

export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  /** What the receiver answered. */
  status: number;
  body: { type: string; timestamp: string; data: any };
}

/** What to answer the nth request of an event (1-based): a status, later, or 'hang' (never answer). */
export type Script = (attempt: number, received: ReceivedWebhook) => number | Promise<number> | 'hang';

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Requests whose signature did not verify (a test expects none). */
  readonly rejected: string[] = [];
  private readonly waiters = new Set<() => void>();
  /** Requests seen per webhook-id, hanging ones too. */
  private readonly attempts = new Map<string, number>();
  private server?: http.Server;
  private readonly verifier: Webhook;

  constructor(
    readonly secret: string,
    public script: Script = () => 204,
  ) {
    this.verifier = new Webhook(secret);
  }

  /** Listens on `port` (0: a free one). */
  async start(port = 0): Promise<this> {
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Forgets what was received (between tests) and answers 204 again. */
  reset(): void {
    this.received.length = 0;
    this.rejected.length = 0;
    this.attempts.clear();
    this.script = () => 204;
  }

  /** The deliveries answered 2xx. */
  get delivered(): ReceivedWebhook[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }

  /** Resolves when `ready()` holds, re-checked on every request; rejects after `ms`. */
  until<T>(ready: () => T | undefined | false, ms = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = ready();
        if (!value) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`the webhook receiver did not see what was awaited within ${ms} ms (got ${this.received.map((r) => `${r.body.type}:${r.status}`).join(', ')})`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  /** The first delivered event of `type` matching `where`, once it has arrived. */
  deliveredEvent(type: string, where: (r: ReceivedWebhook) => boolean = () => true, ms?: number): Promise<ReceivedWebhook> {
    return this.until(() => this.delivered.find((r) => r.body.type === type && where(r)), ms);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const payload = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      try {
        this.verifier.verify(payload, headers);
      } catch (err) {
        this.rejected.push(`${headers['webhook-id']}: ${(err as Error).message}`);
        res.writeHead(400).end();
        return;
      }
      const record: ReceivedWebhook = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        status: 0,
        body: JSON.parse(payload),
      };
      const answer = this.script(this.attempts.get(record.id) ?? 1, record);
      this.attempts.set(record.id, (this.attempts.get(record.id) ?? 1) + 1);
      if (answer === 'hang') return;
      void Promise.resolve(answer).then((status) => {
        record.status = status;
        this.received.push(record);
        res.writeHead(status).end();
        for (const waiter of [...this.waiters]) waiter();
      });
    });
  }
}
