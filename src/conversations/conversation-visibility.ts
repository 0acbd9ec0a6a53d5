import type { ConversationRecord } from './conversation.record';

/**
 * Privacy between strangers (docs/api.md), in one place: as pure functions over a record, and as
 * the SQL the hot queries filter with, side by side so that the two cannot drift apart.
 *
 * - Two users are presence partners once their conversation holds or held a message.
 * - A participant sees a conversation once it holds or held a message, or while it is empty if
 *   they created it or opened it with POST /conversations. Anyone else gets NOT_FOUND.
 *
 * last_message_id also counts as a message held: nodes of the previous version (during a rolling
 * deploy) write messages without setting held_message.
 */

export function hasHeldMessage(conversation: ConversationRecord): boolean {
  return conversation.heldMessage || conversation.lastMessageId !== null;
}

export function isVisibleTo(conversation: ConversationRecord, userId: number): boolean {
  if (conversation.participant1Id === userId) return conversation.participant1Opened || hasHeldMessage(conversation);
  if (conversation.participant2Id === userId) return conversation.participant2Opened || hasHeldMessage(conversation);
  return false;
}

/** A column reference, qualified by a table alias when one is given. */
const column = (name: string, alias?: string) => (alias ? `${alias}.${name}` : name);

/** SQL: the conversation holds or held a message (the two of them are presence partners). */
export const heldMessageSql = (alias?: string): string =>
  `(${column('held_message', alias)} OR ${column('last_message_id', alias)} IS NOT NULL)`;

/** SQL: the conversation is visible to its participant on `side`, who is known to be the user. */
export const visibleToSideSql = (side: 1 | 2, alias?: string): string =>
  `(${column(`participant_${side}_opened`, alias)} OR ${heldMessageSql(alias)})`;

/** SQL: the user (a bind parameter such as `$3`) takes part in the conversation and sees it. */
export const visibleToSql = (user: string, alias?: string): string =>
  `((${column('participant_1_id', alias)} = ${user} AND ${visibleToSideSql(1, alias)})
    OR (${column('participant_2_id', alias)} = ${user} AND ${visibleToSideSql(2, alias)}))`;
