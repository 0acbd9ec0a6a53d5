import { Column, DataType, Model, Table } from 'sequelize-typescript';
import type { Message } from '../messages/message.model';
import type { ChatUser } from '../users/user.model';

/**
 * An uploaded file's record; its bytes are in the attachment storage under `storageKey`. The
 * migrations define the schema; this model mirrors it. A template: each chat binds its own copy
 * (`chat.models.Attachment`, src/db/chat-models.ts).
 */
@Table({ tableName: 'attachments', underscored: true, timestamps: true, updatedAt: false })
export class Attachment extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true }) declare id: string;
  @Column({ type: DataType.INTEGER, allowNull: false }) declare uploaderId: number;
  @Column({ type: DataType.STRING(64), allowNull: false }) declare storageKey: string;
  @Column({ type: DataType.STRING(255), allowNull: false }) declare name: string;
  @Column({ type: DataType.STRING(100), allowNull: false }) declare mimeType: string;
  @Column({ type: DataType.INTEGER, allowNull: false }) declare size: number;
  declare createdAt: Date;

  // Associations (src/db/chat-models.ts), present when included.
  declare uploader?: ChatUser;
  /** The message it was sent in; null while unsent. */
  declare message?: Message | null;
}
