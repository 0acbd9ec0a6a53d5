import { Sql, toDate } from '../db/sql';

/** lastSeenAt, kept in Duet's own table so it survives restarts. */
export class PresenceRepository {
  constructor(private readonly sql: Sql) {}

  async saveLastSeen(userId: number, at: Date): Promise<void> {
    await this.sql.rows(
      `INSERT INTO user_presence (user_id, last_seen_at) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at`,
      [userId, at],
    );
  }

  async lastSeen(userIds: readonly number[]): Promise<Map<number, Date>> {
    if (!userIds.length) return new Map();
    const rows = await this.sql.rows<{ user_id: number; last_seen_at: Date }>(
      'SELECT user_id, last_seen_at FROM user_presence WHERE user_id = ANY($1::int[])',
      [userIds],
    );
    return new Map(rows.map((r) => [Number(r.user_id), toDate(r.last_seen_at)]));
  }
}
