import type { Request, Response } from 'express';
import { principalOf } from '../http/auth.middleware';
import { inputOf } from '../http/validate.middleware';
import type { ConversationService } from './conversation.service';

/** Turns HTTP into service calls and service results into HTTP; no rules live here. */
export function conversationController(service: ConversationService) {
  return {
    async open(_req: Request, res: Response) {
      const { participantId } = inputOf<{ participantId: number }>(res);
      const { conversation, created } = await service.open(principalOf(res).userId, participantId);
      res.status(created ? 201 : 200).json({ conversation });
    },

    async list(_req: Request, res: Response) {
      const { limit, cursor } = inputOf<{ limit: number; cursor?: string }>(res);
      res.json(await service.list(principalOf(res).userId, { limit, cursor }));
    },

    async get(_req: Request, res: Response) {
      const { id } = inputOf<{ id: number }>(res);
      res.json({ conversation: await service.get(principalOf(res).userId, id) });
    },

    async unreadCount(_req: Request, res: Response) {
      res.json(await service.unreadCounts(principalOf(res).userId));
    },
  };
}
