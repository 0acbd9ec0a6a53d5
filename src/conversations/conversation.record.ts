import { selectList, toDate, toNullableDate, toNullableNumber, toNumber } from '../db/sql';

/** A conversation row as plain data; participant1Id < participant2Id always. */
export interface ConversationRecord {
  id: number;
  participant1Id: number;
  participant2Id: number;
  lastMessageId: number | null;
  lastMessageAt: Date | null;
  lastActivityAt: Date;
  participant1Unread: number;
  participant2Unread: number;
  /** Holds or held a message (conversation-visibility.ts has the rules these three serve). */
  heldMessage: boolean;
  /** Participant 1 or 2 created it or opened it with POST /conversations. */
  participant1Opened: boolean;
  participant2Opened: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const FIELDS = [
  'id', 'participant_1_id', 'participant_2_id', 'last_message_id', 'last_message_at',
  'last_activity_at', 'participant_1_unread', 'participant_2_unread', 'held_message', 'participant_1_opened',
  'participant_2_opened', 'created_at', 'updated_at',
];

/** The select list toConversationRecord reads, optionally qualified by a table alias. */
export const conversationColumns = (alias?: string): string => selectList(FIELDS, alias);

export const CONVERSATION_COLUMNS = conversationColumns();

export function toConversationRecord(row: Record<string, unknown>): ConversationRecord {
  return {
    id: toNumber(row.id),
    participant1Id: toNumber(row.participant_1_id),
    participant2Id: toNumber(row.participant_2_id),
    lastMessageId: toNullableNumber(row.last_message_id),
    lastMessageAt: toNullableDate(row.last_message_at),
    lastActivityAt: toDate(row.last_activity_at),
    participant1Unread: toNumber(row.participant_1_unread),
    participant2Unread: toNumber(row.participant_2_unread),
    heldMessage: row.held_message === true,
    participant1Opened: row.participant_1_opened === true,
    participant2Opened: row.participant_2_opened === true,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** The pair in its stored order. */
export function orderedPair(a: number, b: number): [number, number] {
  return a < b ? [a, b] : [b, a];
}

/** The two sides of a conversation: a record, or a Conversation model instance. */
type Sides = Pick<ConversationRecord, 'participant1Id' | 'participant2Id'>;

export function isParticipant(conversation: Sides, userId: number): boolean {
  return conversation.participant1Id === userId || conversation.participant2Id === userId;
}

export function otherParticipant(conversation: Sides, userId: number): number {
  return conversation.participant1Id === userId ? conversation.participant2Id : conversation.participant1Id;
}

export function unreadFor(conversation: Sides & Pick<ConversationRecord, 'participant1Unread' | 'participant2Unread'>, userId: number): number {
  return conversation.participant1Id === userId ? conversation.participant1Unread : conversation.participant2Unread;
}
