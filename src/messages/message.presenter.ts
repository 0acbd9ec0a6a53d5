import { type AttachmentJson, toAttachmentJson } from '../attachments/attachment.presenter';
import type { MessageRecord } from './message.record';

/** The contract's Message shape (API.md, "Shapes"). */
export interface MessageJson {
  id: number;
  conversationId: number;
  senderId: number;
  receiverId: number;
  content: string;
  attachment: AttachmentJson | null;
  clientMessageId: string | null;
  deliveredAt: string | null;
  isRead: boolean;
  readAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/**
 * One JSON view per record, made once: a send puts the same message in its ack, in its event and in
 * both participants' conversation views (as lastMessage). Views are frozen because they are shared;
 * records are never changed after a query returns them.
 */
const jsonOfRecord = new WeakMap<MessageRecord, MessageJson>();

export function toMessageJson(m: MessageRecord): MessageJson {
  let json = jsonOfRecord.get(m);
  if (!json) jsonOfRecord.set(m, (json = Object.freeze(buildMessageJson(m))));
  return json;
}

function buildMessageJson(m: MessageRecord): MessageJson {
  return {
    id: m.id,
    conversationId: m.conversationId,
    senderId: m.senderId,
    receiverId: m.receiverId,
    content: m.content,
    attachment: m.attachment ? toAttachmentJson(m.attachment) : null,
    clientMessageId: m.clientMessageId,
    deliveredAt: iso(m.deliveredAt),
    isRead: m.isRead,
    readAt: iso(m.readAt),
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}
