import http from 'node:http';
import https from 'node:https';

/**
 * POSTs to the host's webhook URL over kept-alive connections, with node:http rather than fetch:
 * fetch's web streams and abort signals cost more CPU per event than the rest of a delivery
 * (docs/performance.md, "Webhooks"). Redirects are not followed (a 3xx is a failed attempt).
 */
export class WebhookPoster {
  private readonly target: URL;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;

  constructor(url: string, maxSockets: number) {
    this.target = new URL(url);
    this.transport = this.target.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets });
  }

  /** The answer's status; rejects on a refused or broken connection, or no whole answer within `timeoutMs` (a TimeoutError). */
  post(headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = this.transport.request(this.target, { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
        // Read to the end so that the connection can be reused.
        response.resume();
        response.on('end', () => {
          clearTimeout(timer);
          resolve(response.statusCode ?? 0);
        });
      });
      const timer = setTimeout(() => request.destroy(Object.assign(new Error('no answer in time'), { name: 'TimeoutError' })), timeoutMs);
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      request.end(body);
    });
  }

  /** Ends every connection, cutting attempts in flight short. */
  close(): void {
    this.agent.destroy();
  }
}
