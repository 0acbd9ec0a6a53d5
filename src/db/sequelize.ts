import 'reflect-metadata';
import { Sequelize } from 'sequelize-typescript';
import { DEFAULT_DATABASE_TIMEOUT_MS } from './sql';

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  /** DATABASE_TIMEOUT_MS: the longest wait for a pool slot or a new connection. */
  timeoutMs?: number;
}

/**
 * A Sequelize instance for Duet's own pool (each chat binds its models to it: src/db/chat-models.ts). Logging is off: SQL may contain message text.
 * Waiting for a pool slot and connecting are bounded by the database timeout, so a database that
 * is down or hangs fails a request rather than holding it (statements are bounded in sql.ts).
 */
export function createSequelize({ url, poolMax = 10, timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS }: DatabaseOptions): Sequelize {
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: timeoutMs },
    dialectOptions: { connectionTimeoutMillis: timeoutMs },
  });
  return sequelize;
}
