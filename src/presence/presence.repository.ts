import { heldMessageSql } from '../conversations/conversation-visibility';
import { prepared, Sql, toNullableDate } from '../db/sql';

/**
 * Everyone who has exchanged a message with `user` (each side of the pair has its own index; the
 * held-message test reads the rows the scan visits).
 */
const partnersOf = (user: string) => `ARRAY(
  SELECT participant_2_id FROM conversations WHERE participant_1_id = ${user} AND ${heldMessageSql()}
  UNION
  SELECT participant_1_id FROM conversations WHERE participant_2_id = ${user} AND ${heldMessageSql()})`;

/** For each user of the array $1: when they were last seen, and their partners. */
const ARRIVALS = prepared(
  `SELECT u.id AS user_id, p.last_seen_at, ${partnersOf('u.id')} AS partners
     FROM unnest($1::int[]) AS u(id)
     LEFT JOIN user_presence p ON p.user_id = u.id`,
);

const ON_CONFLICT_REPLACE_LAST_SEEN = 'ON CONFLICT (user_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at';

const SAVE_LAST_SEEN = `INSERT INTO user_presence (user_id, last_seen_at) VALUES ($1, $2) ${ON_CONFLICT_REPLACE_LAST_SEEN}`;

const SAVE_LAST_SEEN_MANY = `INSERT INTO user_presence (user_id, last_seen_at)
  SELECT * FROM unnest($1::int[], $2::timestamptz[]) ${ON_CONFLICT_REPLACE_LAST_SEEN}`;

const DEPARTURE = prepared(`WITH saved AS (${SAVE_LAST_SEEN}) SELECT ${partnersOf('$1')} AS partners`);

/**
 * Of the users in the array $2, those whose presence $1 may see (themselves, and everyone who has
 * exchanged a message with them), each with their lastSeenAt (NULL if never offline). One probe of
 * the pair index per asked id, so the cost follows the question, not the caller's contacts.
 */
const VISIBLE_LAST_SEEN = prepared(
  `SELECT u.id AS user_id, p.last_seen_at
     FROM (SELECT DISTINCT id FROM unnest($2::int[]) AS asked(id)) AS u
     LEFT JOIN user_presence p ON p.user_id = u.id
    WHERE u.id = $1::int
       OR EXISTS (SELECT 1 FROM conversations c
                   WHERE c.participant_1_id = least($1::int, u.id) AND c.participant_2_id = greatest($1::int, u.id)
                     AND ${heldMessageSql('c')})`,
);

export interface Arrival {
  /** When the user last went offline; null if never. */
  lastSeen: Date | null;
  /** Who hears of the user's presence changes. */
  partners: number[];
}

/**
 * lastSeenAt, kept in Duet's own table so it survives restarts, and who hears of a presence
 * change. A change needs both, so each is one round trip, and arrivals are batched (see
 * PresenceService): sockets connect in bursts (every client reconnects after a deploy), and every
 * query on that path is paid ten thousand times over.
 */
export class PresenceRepository {
  constructor(private readonly sql: Sql) {}

  /** What the arrival of each of these users needs, in one round trip (see PresenceService). */
  async arrivals(userIds: readonly number[]): Promise<Map<number, Arrival>> {
    const rows = await this.sql.rows<{ user_id: number; last_seen_at: unknown; partners: unknown[] }>(ARRIVALS, [userIds]);
    return new Map(rows.map((row) => [Number(row.user_id), { lastSeen: toNullableDate(row.last_seen_at), partners: row.partners.map(Number) }]));
  }

  /** Records that the user went offline at `at`; returns who hears of it. */
  async departure(userId: number, at: Date): Promise<number[]> {
    const row = await this.sql.row<{ partners: unknown[] }>(DEPARTURE, [userId, at]);
    return (row?.partners ?? []).map(Number);
  }

  /** Records when each of these users went offline, in one statement (shutdown saves everyone still leaving). */
  async saveLastSeenMany(entries: readonly { userId: number; at: Date }[]): Promise<void> {
    if (!entries.length) return;
    await this.sql.rows(SAVE_LAST_SEEN_MANY, [entries.map((e) => e.userId), entries.map((e) => e.at)]);
  }

  /** Which of these users' presence `viewerId` may see, each with their lastSeenAt (null if never offline). */
  async visibleLastSeen(viewerId: number, userIds: readonly number[]): Promise<Map<number, Date | null>> {
    if (!userIds.length) return new Map();
    const rows = await this.sql.rows<{ user_id: number; last_seen_at: unknown }>(VISIBLE_LAST_SEEN, [viewerId, userIds]);
    return new Map(rows.map((r) => [Number(r.user_id), toNullableDate(r.last_seen_at)]));
  }
}
