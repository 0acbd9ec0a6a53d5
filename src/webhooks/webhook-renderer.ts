import { toConversationRecord } from '../conversations/conversation.record';
import type { ConversationService } from '../conversations/conversation.service';
import { toMessageJson } from '../messages/message.presenter';
import { toMessageRecord } from '../messages/message.record';
import type { ClaimedDelivery } from './webhook-outbox.repository';

/**
 * An event's `data` as the host receives it. The send batch statement stores message.created as
 * snapshots of the rows it wrote (the message, its conversation after the write) and the
 * receiver's presence; the API JSON is made here, at delivery, off the send path: the message as
 * everywhere else, the conversation as the receiver sees it (like their `new_message`). The other
 * events are stored as they are sent.
 */
export class WebhookRenderer {
  constructor(private readonly conversations: Pick<ConversationService, 'view'>) {}

  async data(delivery: Pick<ClaimedDelivery, 'type' | 'data'>): Promise<unknown> {
    if (delivery.type !== 'message.created') return delivery.data;
    const message = toMessageRecord(delivery.data.message as Record<string, unknown>);
    const conversation = toConversationRecord(delivery.data.conversation as Record<string, unknown>);
    return {
      message: toMessageJson(message),
      conversation: await this.conversations.view(message.receiverId, conversation, message),
      receiverOnline: delivery.data.receiverOnline === true,
    };
  }
}
