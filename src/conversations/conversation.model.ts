import { Column, DataType, Model, Table } from 'sequelize-typescript';
import type { ChatUser } from '../users/user.model';
import type { Message } from '../messages/message.model';
import { isParticipant, otherParticipant, unreadFor } from './conversation.record';

/**
 * One row per unordered pair of users (participant1Id < participant2Id). The migrations define the
 * schema; this model mirrors it (tests/integration/models.test.ts checks that). It is a template:
 * each chat binds its own copy to its Sequelize (`chat.models.Conversation`, src/db/chat-models.ts).
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

  // Associations (src/db/chat-models.ts), present when included.
  declare participant1?: ChatUser;
  declare participant2?: ChatUser;
  declare lastMessage?: Message | null;
  declare messages?: Message[];

  isParticipant(userId: number): boolean {
    return isParticipant(this, userId);
  }

  /** The other side's id, seen from `userId`. */
  otherParticipantId(userId: number): number {
    return otherParticipant(this, userId);
  }

  /** The other side's user, when both participants were included. */
  otherParticipant(userId: number): ChatUser | undefined {
    return this.participant1Id === userId ? this.participant2 : this.participant1;
  }

  /** `userId`'s unread counter. */
  unreadFor(userId: number): number {
    return unreadFor(this, userId);
  }
}
