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

  return { registry, httpTimer, messagesSent };
}
