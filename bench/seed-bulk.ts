import type { BenchDb } from './db';

/**
 * Bulk data for the read-path benchmark, written with set-based SQL (generate_series) straight into
 * Duet's tables, because going through the API would take hours at 10M messages. It keeps the
 * invariants Duet relies on (docs/data-model.md):
 * - one conversation per unordered pair, participant_1_id < participant_2_id;
 * - last_message_id / last_message_at / last_activity_at name the newest message;
 * - participant_N_unread equals that participant's unread, undeleted received messages;
 * - ids and created_at grow together within a conversation; search_vector is left to PostgreSQL
 *   (a generated column).
 *
 * Shape: each user has 2 × conversationsPerUser partners. Most messages land on random
 * conversations (realistic scatter in the heap), and a few "probe" conversations get enough
 * messages from the first level on that a page 1,000 messages back exists, and a share of every
 * later level, so their newest page is as recent (and as cold) as anyone's.
 */

export interface SeedShape {
  users: number;
  /** Conversations started by each user; every user ends up in twice as many. */
  conversationsPerUser: number;
  probes: number;
  /** Messages each probe conversation gets in the first level (over 1,050 for the 1,000-back page). */
  probeMessages: number;
  /** Share of every later level that goes to the probe conversations. */
  probeShareLater: number;
  /** Share of messages left unread. */
  unreadShare: number;
  /** Rows per INSERT statement. */
  chunk: number;
}

export const VOCABULARY_SIZE = 2000;

/** Pronounceable made-up words, deterministic: what a search for a word matches is predictable. */
export function vocabulary(size = VOCABULARY_SIZE): string[] {
  const syllables: string[] = [];
  for (const c of 'bdfgklmnprstvz') for (const v of 'aeiou') syllables.push(c + v);
  const words = new Set<string>();
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  while (words.size < size) words.add(syllables[next() % 70]! + syllables[next() % 70]! + syllables[next() % 70]!);
  return [...words];
}

export interface ProbeConversation {
  conversationId: number;
  /** A participant (participant_1). */
  userId: number;
}

export class BulkSeeder {
  readonly words = vocabulary();
  private seeded = 0;
  private conversations = 0;
  private probeIdx: number[] = [];
  /** All message timestamps are laid out from here, 250 ms apart, ending before "now". */
  private readonly base = new Date(Date.now() - 60 * 24 * 3600_000);

  /** db must be a single-session BenchDb (poolMax 1): the id maps are temporary tables. */
  constructor(
    private readonly db: BenchDb,
    private readonly shape: SeedShape,
    private readonly tag: string,
  ) {}

  get messagesSeeded(): number {
    return this.seeded;
  }

  /** Users and conversations, plus temporary index → id maps for the message inserts. */
  async seedBase(): Promise<{ userIds: number[]; conversations: number }> {
    const { users, conversationsPerUser: k } = this.shape;
    if (2 * k >= users) throw new Error('seed shape: need more users than 2 × conversationsPerUser');
    // Partner of user u number j is u + j·stride (mod users); with gcd(stride, users) = 1 and
    // 2k < users no pair comes out twice, in either order, and nobody talks to themselves.
    const stride = [997, 991, 983].find((p) => users % p !== 0)!;
    const userIds = await this.db.createUsers(`bench-seed-${this.tag}-`, users);
    await this.db.exec('CREATE TEMP TABLE seed_users (idx int PRIMARY KEY, id int NOT NULL)');
    await this.db.exec('INSERT INTO seed_users SELECT g - 1, id FROM unnest($1::int[]) WITH ORDINALITY AS u(id, g)', [userIds]);

    const { before } = await this.db.one<{ before: number }>('SELECT COALESCE(max(id), 0) AS before FROM conversations');
    await this.db.exec(
      `INSERT INTO conversations (participant_1_id, participant_2_id, created_at, updated_at, last_activity_at)
       SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id), t.at, t.at, t.at
         FROM generate_series(0, $1::int - 1) AS u
        CROSS JOIN generate_series(1, $2::int) AS j
         JOIN seed_users a ON a.idx = u
         JOIN seed_users b ON b.idx = (u + j * $3::int) % $1::int
        CROSS JOIN LATERAL (SELECT $4::timestamptz - interval '1 day' + (u * $2::int + j) * interval '1 ms' AS at) AS t
        ORDER BY u, j
       ON CONFLICT (participant_1_id, participant_2_id) DO NOTHING`,
      [users, k, stride, this.base],
    );
    await this.db.exec(
      `CREATE TEMP TABLE seed_convs AS
       SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id, participant_1_id AS p1, participant_2_id AS p2
         FROM conversations
        WHERE id > $1 AND participant_1_id IN (SELECT id FROM seed_users)`,
      [before],
    );
    await this.db.exec('ALTER TABLE seed_convs ADD PRIMARY KEY (idx)');
    this.conversations = Number((await this.db.one<{ n: number }>('SELECT count(*)::int AS n FROM seed_convs')).n);
    if (this.conversations !== users * k) throw new Error(`seeded ${this.conversations} conversations, expected ${users * k}`);
    this.probeIdx = Array.from({ length: this.shape.probes }, (_, i) => Math.floor((i * this.conversations) / this.shape.probes));
    return { userIds, conversations: this.conversations };
  }

  /** Adds messages until `total` have been seeded, then brings the statistics up to date. */
  async growTo(total: number, progress: (done: number) => void = () => undefined): Promise<void> {
    const first = this.seeded === 0;
    const probeTotal = this.shape.probes * this.shape.probeMessages;
    // The first level fills the probe conversations; later ones give them a small share.
    const probeShare = first ? Math.min(0.9, probeTotal / Math.max(1, total)) : this.shape.probeShareLater;
    while (this.seeded < total) {
      const n = Math.min(this.shape.chunk, total - this.seeded);
      await this.insertChunk(this.seeded, n, probeShare);
      this.seeded += n;
      progress(this.seeded);
    }
    // What autovacuum would reach eventually: fresh statistics, a visibility map for index-only
    // scans, and the GIN pending list merged. Measuring before that would measure the seeding.
    for (const table of ['messages', 'conversations']) await this.db.exec(`VACUUM ANALYZE ${table}`);
    await this.db.exec(`ANALYZE ${this.db.usersTable}`);
    await this.db.exec('CHECKPOINT').catch(() => undefined); // needs superuser or pg_checkpoint
  }

  private async insertChunk(from: number, count: number, probeShare: number): Promise<void> {
    const { lo } = await this.db.one<{ lo: number }>('SELECT COALESCE(max(id), 0) AS lo FROM messages');
    await this.db.exec(
      `INSERT INTO messages (conversation_id, sender_id, receiver_id, content, is_read, read_at, delivered_at, created_at, updated_at)
       SELECT c.id,
              CASE WHEN r.g % 2 = 0 THEN c.p1 ELSE c.p2 END,
              CASE WHEN r.g % 2 = 0 THEN c.p2 ELSE c.p1 END,
              r.content, r.is_read,
              CASE WHEN r.is_read THEN r.at + interval '1 minute' END,
              r.at + interval '1 second', r.at, r.at
         FROM (
           SELECT g,
                  CASE WHEN random() < $3::float8 THEN ($4::int[])[(1 + g % cardinality($4::int[]))::int]
                       ELSE floor(random() * $5::int)::int END AS idx,
                  random() >= $6::float8 AS is_read,
                  $7::timestamptz + g * interval '250 ms' AS at,
                  concat_ws(' ', w[1 + floor(random() * $8::int)::int], w[1 + floor(random() * $8::int)::int],
                                 w[1 + floor(random() * $8::int)::int], w[1 + floor(random() * $8::int)::int]) AS content
             FROM generate_series($1::bigint, $1::bigint + $2::int - 1) AS g, (SELECT $9::text[] AS w) AS v
         ) AS r
         JOIN seed_convs c ON c.idx = r.idx
        ORDER BY r.g`,
      [from, count, probeShare, this.probeIdx, this.conversations, this.shape.unreadShare, this.base, this.words.length, this.words],
    );
    // The chunk's newest message per conversation becomes its last message, and its unread
    // messages are added to the receiver's counter (the receiver is participant_1 when its id is
    // the smaller of the two).
    await this.db.exec(
      `UPDATE conversations c
          SET last_message_id = a.last_id, last_message_at = m.created_at, last_activity_at = m.created_at,
              updated_at = m.created_at, held_message = true,
              participant_1_unread = c.participant_1_unread + a.unread_1,
              participant_2_unread = c.participant_2_unread + a.unread_2
         FROM (SELECT conversation_id, max(id) AS last_id,
                      count(*) FILTER (WHERE NOT is_read AND receiver_id < sender_id)::int AS unread_1,
                      count(*) FILTER (WHERE NOT is_read AND receiver_id > sender_id)::int AS unread_2
                 FROM messages WHERE id > $1 GROUP BY conversation_id) AS a
         JOIN messages m ON m.id = a.last_id
        WHERE c.id = a.conversation_id`,
      [lo],
    );
  }

  /** The probe conversations with one participant each, for the history reads. */
  async probes(): Promise<ProbeConversation[]> {
    const rows = await this.db.rows<{ id: number; p1: number }>(
      'SELECT id, p1 FROM seed_convs WHERE idx = ANY($1::int[]) ORDER BY idx',
      [this.probeIdx],
    );
    return rows.map((r) => ({ conversationId: Number(r.id), userId: Number(r.p1) }));
  }

  /**
   * Checks the invariants on the probe conversations and a sample of the others (cheap at any
   * size), so that a seeding bug shows up as an error rather than as flattering read latencies.
   */
  async verify(): Promise<void> {
    const bad = await this.db.rows<{ id: number }>(
      `SELECT c.id FROM conversations c
        WHERE c.id IN (SELECT id FROM seed_convs WHERE idx = ANY($1::int[]) OR idx % $2::int = 0)
          AND (c.last_message_id IS DISTINCT FROM (SELECT max(id) FROM messages WHERE conversation_id = c.id AND deleted_at IS NULL)
           OR c.last_activity_at <> COALESCE(c.last_message_at, c.created_at)
           OR c.participant_1_unread <> (SELECT count(*) FROM messages WHERE conversation_id = c.id AND receiver_id = c.participant_1_id AND NOT is_read AND deleted_at IS NULL)
           OR c.participant_2_unread <> (SELECT count(*) FROM messages WHERE conversation_id = c.id AND receiver_id = c.participant_2_id AND NOT is_read AND deleted_at IS NULL))`,
      [this.probeIdx, Math.max(1, Math.floor(this.conversations / 2000))],
    );
    if (bad.length) throw new Error(`seeded conversations ${bad.slice(0, 10).map((r) => r.id).join(', ')} break the last-message/unread invariants`);
    const short = await this.db.rows<{ id: number; n: number }>(
      `SELECT conversation_id AS id, count(*)::int AS n FROM messages
        WHERE conversation_id IN (SELECT id FROM seed_convs WHERE idx = ANY($1::int[])) AND deleted_at IS NULL
        GROUP BY conversation_id HAVING count(*) < 1051`,
      [this.probeIdx],
    );
    if (short.length) throw new Error(`probe conversation ${short[0]!.id} has only ${short[0]!.n} messages: no page 1,000 back`);
  }
}
