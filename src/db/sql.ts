import { createHash } from 'node:crypto';
import type { Sequelize } from 'sequelize';
import { parseCommonTimestamptz, TIMESTAMPTZ_OID } from './timestamp-parser';

type TypeParser = (text: string) => unknown;

interface TypeParsers {
  getTypeParser(oid: number, format?: string): TypeParser;
}

/** The part of a pg client Duet uses. */
interface PgClient extends TypeParsers {
  query(
    query: string | { name?: string; text: string; values?: unknown[]; types?: TypeParsers },
    values?: unknown[],
  ): Promise<{ rows: object[] }>;
}

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

interface ConnectionManager {
  getConnection(options: { type: 'write' }): Promise<PgClient>;
  releaseConnection(connection: PgClient): void;
}

/** A transaction in progress: every statement given it runs on its one connection. */
export interface Transaction {
  readonly client: PgClient;
}

/**
 * Raw, parameterised SQL for the paths where we need exact control of locks and indexes. It runs
 * on connections from Sequelize's own pool (one pool, one set of pool metrics) but talks to pg
 * directly: Sequelize's per-query work (bind formatting, hooks, result shaping) cost more CPU than
 * the rest of a send.
 */
export class Sql {
  private readonly connections: ConnectionManager;

  constructor(readonly sequelize: Sequelize) {
    this.connections = sequelize.connectionManager as unknown as ConnectionManager;
  }

  async rows<T extends object = Record<string, unknown>>(
    statement: string | Statement,
    bind: unknown[] = [],
    transaction?: Transaction,
  ): Promise<T[]> {
    if (transaction) return this.run<T>(transaction.client, statement, bind);
    const client = await this.connections.getConnection({ type: 'write' });
    try {
      return await this.run<T>(client, statement, bind);
    } finally {
      this.connections.releaseConnection(client);
    }
  }

  async row<T extends object = Record<string, unknown>>(
    statement: string | Statement,
    bind: unknown[] = [],
    transaction?: Transaction,
  ): Promise<T | undefined> {
    return (await this.rows<T>(statement, bind, transaction))[0];
  }

  private async run<T>(client: PgClient, statement: string | Statement, bind: unknown[]): Promise<T[]> {
    const { text, name } = typeof statement === 'string' ? { text: statement, name: undefined } : statement;
    return (await client.query({ name, text, values: bind, types: fastParsersOf(client) })).rows as T[];
  }

  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    const client = await this.connections.getConnection({ type: 'write' });
    try {
      await client.query('BEGIN');
      try {
        const result = await work({ client });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      this.connections.releaseConnection(client);
    }
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
    const timestamptz: TypeParser = (text) => parseCommonTimestamptz(text) ?? general(text);
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
