import { Webhook } from 'standardwebhooks';
import type { WebhookConfig } from '../config';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import { nextAttemptAt } from './retry-schedule';
import { WebhookPoster } from './webhook-poster';
import type { AttemptOutcome, ClaimedDelivery, WebhookOutboxRepository } from './webhook-outbox.repository';
import type { WebhookRenderer } from './webhook-renderer';

/** API.md: no answer within this counts as a failed attempt. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

export interface DispatcherOptions {
  /** How often an idle worker looks for due rows (a local commit wakes it at once). */
  pollMs: number;
  /** Attempts in flight at once on this node. */
  concurrency: number;
  /** How long a claim holds a row: longer than an attempt (and its rendering) can take. */
  leaseMs: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = Object.freeze({
  pollMs: 250,
  concurrency: 32,
  leaseMs: ATTEMPT_TIMEOUT_MS + 5_000,
});

export interface WebhookMetrics {
  delivered(latencySeconds: number): void;
  failed(): void;
}

/**
 * A nudge wakes the worker no sooner than this after its last claim: under load every send batch
 * nudges, and one claim per batch would double the statements of the send path; this way one
 * claim takes what several batches queued, for a few milliseconds of delivery latency.
 */
const MIN_CLAIM_INTERVAL_MS = 20;

/** A worker's failures are logged at most this often: a receiver or database that is away would flood the log. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * One node's delivery worker. It claims due rows (FOR UPDATE SKIP LOCKED, so the nodes share the
 * work and never send one event twice at once), commits the claim, and only then posts, so that a
 * slow or hanging receiver never holds a database connection. Each attempt is signed afresh (its
 * own webhook-timestamp) under the event's fixed webhook-id. Outcomes are written in batches, one
 * statement for whatever finished meanwhile. Nothing here throws into the process: a failure is
 * logged and the rows come due again when their lease ends (at least once).
 */
export class WebhookDispatcher {
  private readonly signer: Webhook;
  private readonly poster: WebhookPoster;
  private stopped = false;
  private loop?: Promise<void>;
  private inFlight = 0;
  private nudged = false;
  private wake?: () => void;
  private readonly finished: AttemptOutcome[] = [];
  private settling?: Promise<void>;
  private lastErrorLog = 0;
  private lastClaimAt = 0;

  constructor(
    private readonly deps: {
      outbox: WebhookOutboxRepository;
      renderer: WebhookRenderer;
      config: WebhookConfig;
      metrics: WebhookMetrics;
      logger: Logger;
    },
    private readonly options: DispatcherOptions = DEFAULT_DISPATCHER_OPTIONS,
  ) {
    this.signer = new Webhook(deps.config.secret);
    this.poster = new WebhookPoster(deps.config.url, options.concurrency);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** A local commit queued an event: look now rather than at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Stops claiming, cuts attempts in flight short (they come due again at once) and records every outcome. */
  async close(): Promise<void> {
    this.stopped = true;
    this.poster.close();
    this.wake?.();
    await this.loop;
    while (this.inFlight > 0 || this.settling) await (this.settling ?? this.pause(10));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const free = this.options.concurrency - this.inFlight;
      if (free <= 0) {
        await this.pause(this.options.pollMs);
        continue;
      }
      this.nudged = false;
      this.lastClaimAt = Date.now();
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await this.deps.outbox.claim(free, this.options.leaseMs);
      } catch (err) {
        this.report('claiming webhook deliveries failed', err);
      }
      for (const delivery of claimed) this.launch(delivery);
      // A full claim: more may be due; go on as soon as a slot frees.
      if (claimed.length < free) await this.pause(this.options.pollMs);
    }
  }

  /** Until `ms` pass, a nudge (MIN_CLAIM_INTERVAL_MS after the last claim at the soonest), a slot frees up or close(). */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      if (this.nudged && !this.stopped && this.inFlight < this.options.concurrency) return resolve();
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
    this.wake = undefined;
    const early = this.lastClaimAt + MIN_CLAIM_INTERVAL_MS - Date.now();
    if (early > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, early).unref());
  }

  private launch(delivery: ClaimedDelivery): void {
    this.inFlight++;
    void this.attempt(delivery).then((outcome) => {
      this.inFlight--;
      this.finished.push(outcome);
      void this.settle();
      this.wake?.();
    });
  }

  /** One POST. Never rejects: whatever goes wrong is the attempt's outcome. */
  private async attempt(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    const { seq, attempts } = delivery;
    let error: string;
    try {
      const body = JSON.stringify({ type: delivery.type, timestamp: delivery.createdAt.toISOString(), data: await this.deps.renderer.data(delivery) });
      const sentAt = new Date();
      const status = await this.poster.post(
        {
          'content-type': 'application/json',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': this.signer.sign(delivery.id, sentAt, body),
        },
        body,
        ATTEMPT_TIMEOUT_MS,
      );
      if (status >= 200 && status < 300) {
        this.deps.metrics.delivered((Date.now() - delivery.createdAt.getTime()) / 1000);
        return { seq, attempts, status: 'delivered' };
      }
      error = `HTTP ${status}`;
    } catch (err) {
      error = this.stopped ? 'interrupted: the node shut down' : describe(err);
    }
    // Cut short by a shutdown: due again at once, on whichever node is up.
    if (this.stopped) return { seq, attempts, status: 'pending', error, nextAttemptAt: new Date() };
    const next = nextAttemptAt(delivery, this.deps.config, new Date());
    if (next) return { seq, attempts, status: 'pending', error, nextAttemptAt: next };
    this.deps.metrics.failed();
    return { seq, attempts, status: 'failed', error };
  }

  /** Writes what finished, one statement at a time, each taking everything finished meanwhile. */
  private settle(): Promise<void> {
    if (!this.settling) {
      this.settling = this.settleAll().finally(() => {
        this.settling = undefined;
        // Finished after the last statement began, while this one was ending.
        if (this.finished.length) void this.settle();
      });
    }
    return this.settling;
  }

  private async settleAll(): Promise<void> {
    while (this.finished.length) {
      const batch = this.finished.splice(0);
      try {
        await this.deps.outbox.settle(batch);
      } catch (err) {
        // Their leases end and they are tried again: at least once.
        this.report('recording webhook attempts failed', err);
      }
    }
  }

  private report(what: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    errorLog(this.deps.logger).error(what, err);
  }
}

/** A short reason for the admin list; never the body. */
function describe(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  const text = (err as { code?: string } | undefined)?.code ?? (err instanceof Error ? err.message : String(err));
  return text.slice(0, 500);
}
