import type { Sequelize, Transaction as SequelizeTransaction } from 'sequelize';

/**
 * Everything Duet reaches under Sequelize's public API, in one place (issue 15):
 * the connection manager the SQL layer borrows pg connections from, its pool's figures, and the
 * connection a Sequelize transaction holds. tests/integration/private-internals.test.ts fails if
 * an upgrade moves any of them; Sequelize is pinned to an exact version.
 */

type TypeParser = (text: string) => unknown;

export interface TypeParsers {
  getTypeParser(oid: number, format?: string): TypeParser;
}

/** The part of a pg client Duet uses. */
export interface PgClient extends TypeParsers {
  query(
    query: string | { name?: string; text: string; values?: unknown[]; types?: TypeParsers; query_timeout?: number },
    values?: unknown[],
  ): Promise<{ rows: object[] }>;
  /** Sequelize's mark for a connection its pool must not hand out again. */
  _invalid?: boolean;
}

export interface ConnectionManager {
  getConnection(options: { type: 'write' }): Promise<PgClient>;
  releaseConnection(connection: PgClient): void;
  destroyConnection(connection: PgClient): Promise<void>;
  /** Sequelize's pool settings, defaults filled in. */
  config?: { pool?: { acquire?: number } };
}

/** The connection manager of a Sequelize instance over PostgreSQL (pg clients, one pool). */
export const connectionManagerOf = (sequelize: Sequelize): ConnectionManager => sequelize.connectionManager as unknown as ConnectionManager;

/** The pg connection a Sequelize transaction runs on, once it has begun. */
export const connectionOf = (transaction: SequelizeTransaction): PgClient => (transaction as unknown as { connection: PgClient }).connection;

/** Pool figures for /metrics; Sequelize keeps them on its connection manager. */
export function poolStats(sequelize: Sequelize): { size: number; available: number; using: number; waiting: number } {
  const pool = (connectionManagerOf(sequelize) as unknown as { pool?: Record<string, number> }).pool;
  return {
    size: pool?.size ?? 0,
    available: pool?.available ?? 0,
    using: pool?.using ?? 0,
    waiting: pool?.waiting ?? 0,
  };
}
