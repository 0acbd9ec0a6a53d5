import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Sequelize } from 'sequelize';
import { poolStats } from '../db/sequelize-internals';
import { routeLabel } from '../http/route-label';

export interface ChatMetrics {
  registry: Registry;
  /** Times each /api/chat request, labelled by route pattern (never the raw path: ids would explode the label set). */
  httpTimer: RequestHandler;
  messagesSent: Counter;
  /** Webhook deliveries (src/webhooks/): the backlog is read from the outbox when /metrics is scraped. */
  webhooks: {
    delivered: Counter;
    failed: Counter;
    /** From the event (the change's commit) to the 2xx answer. */
    latency: Histogram;
    /** Set once webhooks are on: counts the outbox's pending rows. */
    countPending?: () => Promise<number>;
  };
}

/** A registry per Duet instance, so a host's own prom-client registry is left alone. */
export function createMetrics(sequelize: Sequelize, options: { defaultMetrics: boolean }): ChatMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: 'duet_http_request_duration_seconds',
    help: 'REST request latency by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const messagesSent = new Counter({
    name: 'duet_messages_sent_total',
    help: 'Messages stored (retries that were deduplicated are not counted)',
    registers: [registry],
  });
  const webhooks: ChatMetrics['webhooks'] = {
    delivered: new Counter({ name: 'duet_webhooks_delivered_total', help: 'Webhook events delivered (a 2xx answer)', registers: [registry] }),
    failed: new Counter({ name: 'duet_webhooks_failed_total', help: 'Webhook events given up after the retry window', registers: [registry] }),
    latency: new Histogram({
      name: 'duet_webhook_delivery_latency_seconds',
      help: 'From the event to its delivery, retries included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'duet_webhooks_pending',
    help: 'Webhook events waiting for delivery (the outbox backlog, all nodes)',
    registers: [registry],
    async collect() {
      if (!webhooks.countPending) return;
      // A scrape with the database away keeps the last value rather than failing the whole page.
      const pending = await webhooks.countPending().catch(() => undefined);
      if (pending !== undefined) this.set(pending);
    },
  });
  for (const field of ['size', 'available', 'using', 'waiting'] as const) {
    new Gauge({
      name: `duet_db_pool_${field}`,
      help: `Database pool connections: ${field}`,
      registers: [registry],
      collect() {
        this.set(poolStats(sequelize)[field]);
      },
    });
  }

  const httpTimer: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      end({ method: req.method, route: routeLabel(req), status: String(res.statusCode) });
    });
    next();
  };

  return { registry, httpTimer, messagesSent, webhooks };
}
