import type { Request, Response } from 'express';
import { principalOf } from '../http/auth.middleware';
import { inputOf } from '../http/validate.middleware';
import type { DeliveryFilter, WebhookAdminService } from './webhook-admin.service';

/** Turns HTTP into webhook admin calls; the service checks the role. */
export function webhookAdminController(service: WebhookAdminService) {
  return {
    async list(_req: Request, res: Response) {
      res.json(await service.list(principalOf(res), inputOf<DeliveryFilter>(res)));
    },

    async retry(_req: Request, res: Response) {
      res.json(await service.retry(principalOf(res), inputOf<{ id: string }>(res).id));
    },
  };
}
