import type { AttachmentSummary } from '../attachments/attachment.presenter';
import { selectList, toDate, toNullableDate, toNullableNumber, toNumber } from '../db/sql';
import type { Message } from './message.model';

/** A message as the repositories return it: plain data, no ORM instance. */
export interface MessageRecord {
  id: number;
  conversationId: number;
  senderId: number;
  receiverId: number;
  content: string;
  clientMessageId: string | null;
  isRead: boolean;
  readAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  deletedBy: number | null;
  attachmentId: number | null;
  /** The attachment's display fields, copied at send time (they never change). */
  attachment: AttachmentSummary | null;
}

/** The columns every message query selects, in the shape toMessageRecord reads. */
const FIELDS = [
  'id', 'conversation_id', 'sender_id', 'receiver_id', 'content', 'client_message_id', 'is_read',
  'read_at', 'delivered_at', 'created_at', 'updated_at', 'deleted_at', 'deleted_by', 'attachment_id', 'attachment',
];

/** The select list toMessageRecord reads, optionally qualified by a table alias. */
export const messageColumns = (alias?: string): string => selectList(FIELDS, alias);

export const MESSAGE_COLUMNS = messageColumns();

/** The same columns, each renamed with a prefix, for a query that also selects another table's. */
export const prefixedMessageColumns = (alias: string, prefix: string): string =>
  FIELDS.map((field) => `${alias}.${field} AS ${prefix}${field}`).join(', ');

/** The message in a row selected with prefixedMessageColumns, or undefined when the join found none. */
export function toPrefixedMessageRecord(row: Record<string, unknown>, prefix: string): MessageRecord | undefined {
  if (row[`${prefix}id`] === null || row[`${prefix}id`] === undefined) return undefined;
  const plain: Record<string, unknown> = {};
  for (const field of FIELDS) plain[field] = row[`${prefix}${field}`];
  return toMessageRecord(plain);
}

export function toMessageRecord(row: Record<string, unknown>): MessageRecord {
  return {
    id: toNumber(row.id),
    conversationId: toNumber(row.conversation_id),
    senderId: toNumber(row.sender_id),
    receiverId: toNumber(row.receiver_id),
    content: String(row.content ?? ''),
    clientMessageId: (row.client_message_id as string | null) ?? null,
    isRead: Boolean(row.is_read),
    readAt: toNullableDate(row.read_at),
    deliveredAt: toNullableDate(row.delivered_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    deletedAt: toNullableDate(row.deleted_at),
    deletedBy: row.deleted_by === null || row.deleted_by === undefined ? null : toNumber(row.deleted_by),
    attachmentId: row.attachment_id === null || row.attachment_id === undefined ? null : toNumber(row.attachment_id),
    attachment: (row.attachment as AttachmentSummary | null) ?? null,
  };
}

/** The same record from a Message model instance (the admin paths read through the models). */
export function fromMessageModel(message: Message): MessageRecord {
  return {
    id: toNumber(message.id),
    conversationId: message.conversationId,
    senderId: message.senderId,
    receiverId: message.receiverId,
    content: message.content,
    clientMessageId: message.clientMessageId,
    isRead: message.isRead,
    readAt: message.readAt,
    deliveredAt: message.deliveredAt,
    createdAt: message.createdAt,
    updatedAt: message.updatedAt,
    deletedAt: message.deletedAt,
    deletedBy: message.deletedBy,
    attachmentId: toNullableNumber(message.attachmentId),
    attachment: message.attachment,
  };
}
