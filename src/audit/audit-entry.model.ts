import { Column, DataType, Model, Table } from 'sequelize-typescript';
import type { Message } from '../messages/message.model';
import type { ChatUser } from '../users/user.model';
import type { AuditAction } from './audit-log.repository';

/**
 * One entry of the append-only audit log (a trigger refuses UPDATE and DELETE). The migrations
 * define the schema; this model mirrors it. A template: each chat binds its own copy
 * (`chat.models.AuditEntry`, src/db/chat-models.ts).
 */
@Table({ tableName: 'audit_log', underscored: true, timestamps: false })
export class AuditEntry extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true }) declare id: string;
  @Column({ type: DataType.STRING(32), allowNull: false }) declare action: AuditAction;
  /** The admin, the user who deleted, or 0 for Duet itself (retention). */
  @Column({ type: DataType.INTEGER, allowNull: false }) declare actorId: number;
  @Column({ type: DataType.BIGINT, allowNull: false }) declare messageId: string;
  @Column({ type: DataType.INTEGER, allowNull: false }) declare conversationId: number;
  @Column({ type: DataType.STRING(500) }) declare reason: string | null;
  @Column({ type: DataType.DATE(3), allowNull: false }) declare at: Date;

  // Associations (src/db/chat-models.ts), present when included.
  declare actor?: ChatUser | null;
  /** Null once the message was purged. */
  declare message?: Message | null;
}
