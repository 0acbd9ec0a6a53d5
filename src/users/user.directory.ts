import { DataTypes } from 'sequelize';
import { prepared, type Sql, type Statement } from '../db/sql';
import { BatchLoader } from '../shared/batch-loader';
import { notFound, validationFailed } from '../shared/errors';
import { ExpiringCache } from '../shared/bounded-map';
import type { UserAttributes, UserModel } from './user.model';

export type UserProfile = UserAttributes;

const MAX_CACHED_USERS = 50_000;
/** With USER_CACHE_MS=0, a removed user is still answered from memory this long. */
const REMOVED_MIN_MS = 1000;
/** Ids per query when connected users are checked again: one short query per chunk, one at a time. */
const RECHECK_CHUNK = 1000;

/**
 * Looks users up in the host's table, with a short cache: every authenticated request and every
 * send asks "does this user exist", and the host table changes rarely. Unknown ids are not cached,
 * so a user the host has just created is usable at once. Misses are looked up in batches: all the
 * ids asked for in one turn of the event loop (a connect storm) share one query.
 */
export class UserDirectory {
  private readonly cache = new ExpiringCache<number, UserProfile>(MAX_CACHED_USERS);
  /** Ids the periodic session check found removed from the host table. */
  private readonly removed = new ExpiringCache<number, true>(MAX_CACHED_USERS);
  private readonly misses = new BatchLoader<number, UserProfile>((ids) => this.load(ids));
  private readonly lookup: Statement;

  constructor(
    private readonly sql: Sql,
    users: UserModel,
    private readonly cacheMs: number,
  ) {
    this.lookup = lookupStatement(users);
  }

  /**
   * The one rule for the other side of a conversation, whichever door opens it: another user than
   * the caller (VALIDATION_FAILED on `field`), and one that exists (NOT_FOUND).
   */
  async requireOther(userId: number, otherId: number, field: string, action: string): Promise<void> {
    if (otherId === userId) throw validationFailed(`You cannot ${action} yourself`, [{ field, message: 'must be another user' }]);
    if (!(await this.find(otherId))) throw notFound('User not found');
  }

  async find(id: number): Promise<UserProfile | null> {
    // A removed user's tokens stay valid until they expire: answer from memory, not the database.
    if (this.removed.get(id)) return null;
    return this.cache.get(id) ?? (await this.misses.load(id)) ?? null;
  }

  /** Profiles for many ids in one query; ids with no user are absent from the map. */
  async findMany(ids: readonly number[]): Promise<Map<number, UserProfile>> {
    const result = new Map<number, UserProfile>();
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const cached = this.cache.get(id);
      if (cached) result.set(id, cached);
      else missing.push(id);
    }
    if (missing.length) for (const [id, profile] of await this.load(missing)) result.set(id, profile);
    return result;
  }

  /**
   * Which of these ids the host table still holds, asked of the database rather than the cache
   * (sockets of removed users are ended on this answer). Those found are cached afresh; the others
   * are forgotten, so REST refuses them at once too.
   */
  async stillPresent(ids: readonly number[]): Promise<Set<number>> {
    const present = new Set<number>();
    for (let start = 0; start < ids.length; start += RECHECK_CHUNK) {
      const chunk = ids.slice(start, start + RECHECK_CHUNK);
      const found = await this.load(chunk);
      for (const id of chunk) {
        if (found.has(id)) present.add(id);
        else this.forgetRemoved(id);
      }
    }
    return present;
  }

  private async load(ids: number[]): Promise<Map<number, UserProfile>> {
    const rows = await this.sql.rows<UserAttributes>(this.lookup, [ids]);
    const found = new Map<number, UserProfile>();
    for (const row of rows) {
      const profile: UserProfile = { id: Number(row.id), name: row.name ?? null, avatarUrl: row.avatarUrl ?? null };
      found.set(profile.id, profile);
      this.remember(profile);
    }
    return found;
  }

  /** A user the host removed: refused from memory for a cache period (a new user is never held up). */
  private forgetRemoved(id: number): void {
    this.cache.delete(id);
    this.removed.set(id, true, Date.now() + Math.max(this.cacheMs, REMOVED_MIN_MS));
  }

  private remember(profile: UserProfile): void {
    this.removed.delete(profile.id);
    if (this.cacheMs <= 0) return;
    this.cache.set(profile.id, profile, Date.now() + this.cacheMs);
  }
}

/**
 * The lookup as plain SQL over the columns the model maps (the host's names come from config).
 * Every first connect of a user runs it, and Sequelize's findAll cost more CPU than the query.
 */
function lookupStatement(users: UserModel): Statement {
  const attributes = users.getAttributes();
  const column = (attribute: keyof UserAttributes) => {
    const definition = attributes[attribute];
    return definition.type instanceof DataTypes.VIRTUAL ? 'NULL' : `"${definition.field ?? attribute}"`;
  };
  const text =
    `SELECT ${column('id')} AS "id", ${column('name')} AS "name", ${column('avatarUrl')} AS "avatarUrl" ` +
    `FROM "${String(users.getTableName())}" WHERE ${column('id')} = ANY($1)`;
  return prepared(text);
}
