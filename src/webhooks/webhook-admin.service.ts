import type { Principal } from '../auth/token-verifier';
import { AppError, notFound } from '../shared/errors';
import type { DeliveryJson, DeliveryStatus, WebhookOutboxRepository } from './webhook-outbox.repository';

export interface DeliveryFilter {
  status: DeliveryStatus | 'all';
  before?: string;
  limit: number;
}

/** The admin's view of the outbox: list deliveries, queue one again. The admin rule is the admin service's. */
export class WebhookAdminService {
  constructor(
    private readonly deps: {
      outbox: WebhookOutboxRepository;
      authorize(principal: Principal): void;
      /** Webhooks are on (a URL is set): only then can anything be delivered. */
      enabled: boolean;
      /** A retry was queued: the local worker looks at once. */
      nudge(): void;
    },
  ) {}

  async list(principal: Principal, filter: DeliveryFilter): Promise<{ deliveries: DeliveryJson[] }> {
    this.deps.authorize(principal);
    const status = filter.status === 'all' ? undefined : filter.status;
    return { deliveries: await this.deps.outbox.list({ status, before: filter.before, limit: filter.limit }) };
  }

  /** Queues a failed or delivered event again under its webhook-id; a pending one is CONFLICT. */
  async retry(principal: Principal, id: string): Promise<{ delivery: DeliveryJson }> {
    this.deps.authorize(principal);
    if (!this.deps.enabled) throw new AppError('CONFLICT', 'Webhooks are off (no WEBHOOK_URL): nothing can be delivered');
    const found = await this.deps.outbox.requeue(id);
    if (!found) throw notFound('Webhook delivery not found');
    if (!found.delivery) throw new AppError('CONFLICT', 'The delivery is still pending');
    this.deps.nudge();
    return { delivery: found.delivery };
  }
}
