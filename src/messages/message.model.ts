import { Column, DataType, Model, Table } from 'sequelize-typescript';
import type { Attachment } from '../attachments/attachment.model';
import type { AttachmentSummary } from '../attachments/attachment.presenter';
import type { Conversation } from '../conversations/conversation.model';
import type { ChatUser } from '../users/user.model';

/**
 * A message; soft-deleted through deletedAt (paranoid), so reads skip deleted messages unless they
 * pass `paranoid: false`. The migrations define the schema; this model mirrors it
 * (tests/integration/models.test.ts checks that). A template: each chat binds its own copy
 * (`chat.models.Message`, src/db/chat-models.ts).
 */
@Table({ tableName: 'messages', underscored: true, timestamps: true, paranoid: true })
export class Message extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true }) declare id: string;
  @Column({ type: DataType.INTEGER, allowNull: false }) declare conversationId: number;
  @Column({ type: DataType.INTEGER, allowNull: false }) declare senderId: number;
  @Column({ type: DataType.INTEGER, allowNull: false }) declare receiverId: number;
  @Column({ type: DataType.TEXT, allowNull: false }) declare content: string;
  @Column({ type: DataType.STRING(100) }) declare clientMessageId: string | null;
  @Column({ type: DataType.BOOLEAN, allowNull: false }) declare isRead: boolean;
  @Column({ type: DataType.DATE(3) }) declare readAt: Date | null;
  @Column({ type: DataType.DATE(3) }) declare deliveredAt: Date | null;
  @Column({ type: DataType.INTEGER }) declare deletedBy: number | null;
  @Column({ type: DataType.BIGINT }) declare attachmentId: string | null;
  /** The attachment's display fields, copied at send time. */
  @Column({ type: DataType.JSONB }) declare attachment: AttachmentSummary | null;
  declare createdAt: Date;
  declare updatedAt: Date;
  declare deletedAt: Date | null;

  // Associations (src/db/chat-models.ts), present when included.
  declare conversation?: Conversation;
  declare sender?: ChatUser;
  declare receiver?: ChatUser;
  /** The stored upload behind `attachment`. */
  declare storedAttachment?: Attachment | null;
}
