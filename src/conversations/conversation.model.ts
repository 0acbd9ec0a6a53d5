import { Column, DataType, Model, Table } from 'sequelize-typescript';

/**
 * One row per unordered pair of users (participant1Id < participant2Id). The migrations define the
 * schema; this model mirrors it for typed reads (tests/integration/models.test.ts checks that).
 */
@Table({ tableName: 'conversations', underscored: true, timestamps: true })
export class Conversation extends Model {
  @Column({ type: DataType.INTEGER, primaryKey: true, autoIncrement: true }) declare id: number;
  @Column({ type: DataType.INTEGER, allowNull: false, field: 'participant_1_id' }) declare participant1Id: number;
  @Column({ type: DataType.INTEGER, allowNull: false, field: 'participant_2_id' }) declare participant2Id: number;
  @Column({ type: DataType.BIGINT }) declare lastMessageId: string | null;
  @Column({ type: DataType.DATE(3) }) declare lastMessageAt: Date | null;
  @Column({ type: DataType.DATE(3), allowNull: false }) declare lastActivityAt: Date;
  @Column({ type: DataType.INTEGER, allowNull: false, field: 'participant_1_unread' }) declare participant1Unread: number;
  @Column({ type: DataType.INTEGER, allowNull: false, field: 'participant_2_unread' }) declare participant2Unread: number;
  @Column({ type: DataType.BOOLEAN, allowNull: false }) declare heldMessage: boolean;
  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'participant_1_opened' }) declare participant1Opened: boolean;
  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'participant_2_opened' }) declare participant2Opened: boolean;
  declare createdAt: Date;
  declare updatedAt: Date;
}
