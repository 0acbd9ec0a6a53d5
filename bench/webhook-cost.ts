import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { summarize, type LatencySummary } from './stats';

/**
 * The host's webhook endpoint for `--webhooks`: a local receiver answering 204 at once, which
 * records each event's delivery latency (from the event's `timestamp`, its commit, to its arrival).
 * It does not verify signatures: the cost measured is Duet's, and a host's check is the host's.
 */
export class BenchReceiver {
  private server?: http.Server;
  private latencies: number[] = [];

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = Date.now();
        try {
          this.latencies.push(at - Date.parse(JSON.parse(Buffer.concat(chunks).toString()).timestamp));
        } catch {
          // Not an event: answered all the same.
        }
        res.writeHead(204).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  get received(): number {
    return this.latencies.length;
  }

  /** Latencies of what arrived since the last call. */
  take(): LatencySummary {
    const taken = this.latencies;
    this.latencies = [];
    return summarize(Float64Array.from(taken));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The outbox backlog sampled while a run goes on: it must stay bounded, not grow for the whole run. */
export class BacklogSampler {
  readonly samples: number[] = [];
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;

  constructor(private readonly count: () => Promise<number>, private readonly everyMs = 250) {}

  start(): void {
    this.timer = setInterval(() => {
      this.reading ??= this.count()
        .then((n) => void this.samples.push(n))
        .catch(() => undefined)
        .finally(() => (this.reading = undefined));
    }, this.everyMs);
  }

  async stop(): Promise<{ max: number; last: number; firstHalfMax: number; secondHalfMax: number; samples: number }> {
    clearInterval(this.timer);
    await this.reading;
    const s = this.samples;
    const half = Math.floor(s.length / 2);
    const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
    return { max: max(s), last: s.at(-1) ?? 0, firstHalfMax: max(s.slice(0, half)), secondHalfMax: max(s.slice(half)), samples: s.length };
  }
}
