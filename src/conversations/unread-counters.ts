/**
 * The one place that knows where a user's unread counter lives: a conversation keeps one per side,
 * participant 1 being the pair's smaller user id. SQL fragments for an UPDATE of `conversations`.
 */

/** Adds `toFirst` to participant 1's counter and `toSecond` to participant 2's (SQL expressions). */
export function unreadCountersSql(toFirst: string, toSecond: string): string {
  return `participant_1_unread = participant_1_unread + ${toFirst},
          participant_2_unread = participant_2_unread + ${toSecond}`;
}

/** Adds `delta` to `user`'s counter, whichever side of the pair they are on (SQL expressions or bind positions). */
export function unreadDeltaSql(user: string, delta: string): string {
  return unreadCountersSql(`CASE WHEN participant_1_id = ${user} THEN ${delta} ELSE 0 END`, `CASE WHEN participant_2_id = ${user} THEN ${delta} ELSE 0 END`);
}

/** For a message from `sender` to `receiver` (SQL expressions): whether it counts for participant 1 (else for 2). */
export const isToFirstSql = (sender: string, receiver: string): string => `${receiver} < ${sender}`;
