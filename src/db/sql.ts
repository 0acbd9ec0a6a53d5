import { createHash } from 'node:crypto';
import type { Sequelize, Transaction as SequelizeTransaction } from 'sequelize';
import { AppError } from '../shared/errors';
import { type ConnectionManager, connectionManagerOf, connectionOf, type PgClient, type TypeParsers } from './sequelize-internals';
import { parseCommonTimestamptz, TIMESTAMPTZ_OID } from './timestamp-parser';

/** DATABASE_TIMEOUT_MS's default: the longest a request waits for the database before UNAVAILABLE. */
export const DEFAULT_DATABASE_TIMEOUT_MS = 5000;

/** Date.now() moves in whole milliseconds: a deadline this close to the pool's own timeout is the same. */
const CLOCK_SLACK_MS = 10;

/** pg's message when a statement's query_timeout passes. */
const QUERY_TIMED_OUT = 'Query read timeout';

/**
 * A statement on a hot path: with a name, each connection parses and plans it once (a prepared
 * statement) instead of on every call.
 */
export interface Statement {
  name?: string;
  text: string;
}

/**
 * A statement that each connection prepares once. The name comes from the text, so two texts
 * never share a name (pg refuses that) and two Duets on one pool that build the same text share it.
 */
export function prepared(text: string): Statement {
  return { name: `duet_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text };
}

/** A transaction in progress: every statement given it runs on its one connection. */
export interface Transaction {
  readonly client: PgClient;
  /** When its statements must have answered (Date.now() time), set when it began. */
  readonly deadline: number;
}

/** A transaction that model calls join too: pass them `{ transaction: t.orm }`. */
export interface ModelTransaction extends Transaction {
  readonly orm: SequelizeTransaction;
}

const unavailable = () => new AppError('UNAVAILABLE', 'The database did not answer in time; try again');

/**
 * Raw, parameterised SQL for the paths where we need exact control of locks and indexes. It runs
 * on connections from Sequelize's own pool (one pool, one set of pool metrics) but talks to pg
 * directly: Sequelize's per-query work (bind formatting, hooks, result shaping) cost more CPU than
 * the rest of a send.
 *
 * Every call has a deadline, `timeoutMs` after it began unless the caller gives one: waiting for a
 * pool slot and the statement together take no longer, so a database that has gone away costs a
 * request UNAVAILABLE, not a hang. A connection whose statement timed out may still be busy on the
 * server, so it is destroyed rather than returned to the pool.
 */
export class Sql {
  private readonly connections: ConnectionManager;
  /** How long the pool itself lets a caller wait for a connection. */
  private readonly poolAcquireMs: number;

  constructor(
    readonly sequelize: Sequelize,
    readonly timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {
    this.connections = connectionManagerOf(sequelize);
    this.poolAcquireMs = this.connections.config?.pool?.acquire ?? Number.POSITIVE_INFINITY;
  }

  /** `deadline` (Date.now() time) replaces the default one; a transaction brings its own. */
  async rows<T extends object = Record<string, unknown>>(
    statement: string | Statement,
    bind: unknown[] = [],
    transaction?: Transaction,
    deadline?: number,
  ): Promise<T[]> {
    if (transaction) return this.run<T>(transaction.client, statement, bind, transaction.deadline);
    const due = deadline ?? Date.now() + this.timeoutMs;
    const client = await this.acquire(due);
    try {
      return await this.run<T>(client, statement, bind, due);
    } finally {
      this.release(client);
    }
  }

  async row<T extends object = Record<string, unknown>>(
    statement: string | Statement,
    bind: unknown[] = [],
    transaction?: Transaction,
    deadline?: number,
  ): Promise<T | undefined> {
    return (await this.rows<T>(statement, bind, transaction, deadline))[0];
  }

  /** Resolves when the database answers a trivial statement within the timeout (readiness). */
  async ping(): Promise<void> {
    await this.rows('SELECT 1');
  }

  private async run<T>(client: PgClient, statement: string | Statement, bind: unknown[], deadline: number): Promise<T[]> {
    const { text, name } = typeof statement === 'string' ? { text: statement, name: undefined } : statement;
    const remaining = deadline - Date.now();
    if (remaining < 1) throw unavailable();
    try {
      return (await client.query({ name, text, values: bind, types: fastParsersOf(client), query_timeout: remaining })).rows as T[];
    } catch (err) {
      if ((err as Error | undefined)?.message !== QUERY_TIMED_OUT) throw err;
      client._invalid = true;
      throw unavailable();
    }
  }

  /**
   * A pool connection by `deadline`. The pool gives up by itself after its acquire timeout (the
   * database timeout, for a pool of ours), so only a nearer deadline costs a timer here: a send
   * batch whose oldest message has waited, or a host's pool with a longer timeout.
   */
  private async acquire(deadline: number): Promise<PgClient> {
    const remaining = deadline - Date.now();
    if (remaining < 1) throw unavailable();
    const acquiring = this.connections.getConnection({ type: 'write' });
    if (remaining + CLOCK_SLACK_MS >= this.poolAcquireMs) return acquiring;
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(unavailable());
      }, remaining);
      acquiring.then(
        (client) => {
          clearTimeout(timer);
          if (late) this.release(client);
          else resolve(client);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** Back to the pool, or closed if it can no longer be trusted (a timed-out or broken connection). */
  private release(client: PgClient): void {
    if (client._invalid) void this.connections.destroyConnection(client).catch(() => undefined);
    else this.connections.releaseConnection(client);
  }

  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const client = await this.acquire(deadline);
    const transaction: Transaction = { client, deadline };
    try {
      await this.run(client, 'BEGIN', [], deadline);
      try {
        const result = await work(transaction);
        await this.run(client, 'COMMIT', [], deadline);
        return result;
      } catch (err) {
        // A broken connection is closed instead, which rolls back on the server.
        if (!client._invalid) await this.run(client, 'ROLLBACK', [], Date.now() + this.timeoutMs).catch(() => undefined);
        throw err;
      }
    } finally {
      this.release(client);
    }
  }
  /**
   * Runs `work` in a Sequelize transaction that this layer's statements join too, so that model calls
   * (given `{ transaction: t.orm }`) and SQL commit together: for cold paths that use the models. The
   * caller has its answer by the deadline, as with transaction(): UNAVAILABLE then, and the work
   * stops before anything else is written (only a COMMIT already sent may still land).
   */
  async modelTransaction<T>(work: (transaction: ModelTransaction) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    let expired = false;
    const running = this.sequelize.transaction(async (orm) => {
      const result = await work({ client: connectionOf(orm), deadline, orm });
      if (expired) throw unavailable();
      return result;
    });
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        expired = true;
        reject(unavailable());
      }, Math.max(0, deadline - Date.now()));
      running.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}

const fastParsers = new WeakMap<PgClient, TypeParsers>();

/**
 * The connection's own type parsers (Sequelize's), except for timestamptz, which gets a parser
 * for PostgreSQL's usual text form that falls back to the connection's for anything else.
 */
function fastParsersOf(client: PgClient): TypeParsers {
  let parsers = fastParsers.get(client);
  if (!parsers) {
    const general = client.getTypeParser(TIMESTAMPTZ_OID, 'text');
    const timestamptz: (text: string) => unknown = (text) => parseCommonTimestamptz(text) ?? general(text);
    parsers = {
      getTypeParser: (oid, format = 'text') => (oid === TIMESTAMPTZ_OID && format === 'text' ? timestamptz : client.getTypeParser(oid, format)),
    };
    fastParsers.set(client, parsers);
  }
  return parsers;
}

/** bigint columns arrive from pg as strings; ids stay within Number's safe range. */
export const toNumber = (value: unknown): number => Number(value);
export const toNullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
export const toDate = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
export const toNullableDate = (value: unknown): Date | null =>
  value === null || value === undefined ? null : toDate(value);

/** A WHERE clause built from optional filters, with numbered bind parameters. */
export class Conditions {
  readonly bind: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds `condition` with `value` bound to the parameter it is handed. */
  add(condition: (param: string) => string, value: unknown): this {
    this.parts.push(condition(this.param(value)));
    return this;
  }

  /** Adds a condition with no parameter. */
  raw(condition: string): this {
    this.parts.push(condition);
    return this;
  }

  /** Binds a value and returns its placeholder. */
  param(value: unknown): string {
    this.bind.push(value);
    return `$${this.bind.length}`;
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** A select list of `columns`, qualified by a table alias when one is given. */
export const selectList = (columns: readonly string[], alias?: string): string =>
  columns.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
