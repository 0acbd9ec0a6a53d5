import type { Transaction } from '../db/sql';
import type { MessageJson } from '../messages/message.presenter';

/** The events of the contract (API.md, "Webhooks to the host"). */
export const WEBHOOK_EVENT_TYPES = ['message.created', 'message.deleted', 'message.restored', 'message.purged', 'messages.read'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Each event's `data` as the host receives it. */
export interface WebhookEventData {
  'message.deleted': { messageId: number; conversationId: number; deletedBy: number };
  'message.restored': { message: MessageJson };
  'message.purged': { messageId: number; conversationId: number };
  'messages.read': { conversationId: number; readerId: number; upToMessageId: number; readAt: string; count: number };
}

/** An event to queue in the transaction of its change; message.created is queued by the send batch statement itself. */
export type NewWebhookEvent = {
  [T in keyof WebhookEventData]: {
    type: T;
    data: WebhookEventData[T];
    /** The message whose text the event carries: a purge erases the event with the message. */
    carriesMessageId?: number;
  };
}[keyof WebhookEventData];

/**
 * Where the services queue events. Absent (webhooks off), nothing is written: each caller asks
 * `outbox?.` so that the off path does no work at all.
 */
export interface WebhookQueue {
  /** Queues events on the change's transaction: they commit, or roll back, with it. */
  add(events: readonly NewWebhookEvent[], transaction: Transaction): Promise<void>;
  /** A purge: drops the queued and delivered events that carry the message's text. */
  eraseMessage(messageId: number, transaction: Transaction): Promise<void>;
  /** Something was committed: the local worker looks at once instead of at its next poll. */
  nudge(): void;
}
