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

export function toMessageJson(m: MessageRecord): MessageJson {
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
