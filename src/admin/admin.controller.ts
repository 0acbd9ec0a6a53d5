import type { Request, Response } from 'express';
import { principalOf } from '../http/auth.middleware';
import { inputOf } from '../http/validate.middleware';
import type { AdminMessageFilter } from './admin-message.repository';
import type { AdminService } from './admin.service';

/** Turns HTTP into admin service calls; the service checks the role. */
export function adminController(service: AdminService) {
  return {
    async listMessages(_req: Request, res: Response) {
      res.json(await service.listMessages(principalOf(res), inputOf<Omit<AdminMessageFilter, 'id'>>(res)));
    },

    async restore(_req: Request, res: Response) {
      const { id, reason } = inputOf<{ id: number; reason?: string }>(res);
      res.json(await service.restore(principalOf(res), id, reason));
    },

    async purge(_req: Request, res: Response) {
      const { id, reason } = inputOf<{ id: number; reason?: string }>(res);
      await service.purge(principalOf(res), id, reason);
      res.status(204).end();
    },

    async auditLog(_req: Request, res: Response) {
      res.json(await service.auditLog(principalOf(res), inputOf<{ messageId?: number; actorId?: number; before?: number; limit: number }>(res)));
    },
  };
}
