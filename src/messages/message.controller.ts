import type { Request, Response } from 'express';
import { principalOf } from '../http/auth.middleware';
import { inputOf } from '../http/validate.middleware';
import type { HistoryQuery, MessageService } from './message.service';
import type { SendMessageInput } from './message.validators';

/** Turns HTTP into service calls and service results into HTTP; no rules live here. */
export function messageController(service: MessageService) {
  return {
    async send(_req: Request, res: Response) {
      const input = inputOf<SendMessageInput>(res);
      const { message, conversation, created } = await service.send({ ...input, senderId: principalOf(res).userId });
      res.status(created ? 201 : 200).json({ message, conversation });
    },

    async history(_req: Request, res: Response) {
      const { id, ...query } = inputOf<HistoryQuery & { id: number }>(res);
      res.json(await service.history(principalOf(res).userId, id, query));
    },

    async markRead(_req: Request, res: Response) {
      const { id, upToMessageId } = inputOf<{ id: number; upToMessageId?: number }>(res);
      res.json(await service.markRead(principalOf(res).userId, id, upToMessageId));
    },

    async remove(_req: Request, res: Response) {
      const { id } = inputOf<{ id: number }>(res);
      await service.delete(principalOf(res).userId, id);
      res.status(204).end();
    },

    async search(_req: Request, res: Response) {
      const query = inputOf<{ q: string; conversationId?: number; limit: number }>(res);
      res.json(await service.search(principalOf(res).userId, query));
    },
  };
}
