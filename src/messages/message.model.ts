import { Column, DataType, Model, Table } from 'sequelize-typescript';

/**
 * A message; soft-deleted through deletedAt (paranoid), so reads skip deleted messages unless they
 * ask `paranoid: false` (the admin audit, or a host's own). The migrations define the schema; this
 * model mirrors it (tests/integration/models.test.ts checks that).
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
  @Column({ type: DataType.JSONB }) declare attachment: { id: number; name: string; mimeType: string; size: number } | null;
  declare createdAt: Date;
  declare updatedAt: Date;
  declare deletedAt: Date | null;
}
