import 'reflect-metadata';
import type { Sequelize as BaseSequelize } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Conversation } from '../conversations/conversation.model';
import { Message } from '../messages/message.model';
import { DEFAULT_DATABASE_TIMEOUT_MS } from './sql';

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  /** DATABASE_TIMEOUT_MS: the longest wait for a pool slot or a new connection. */
  timeoutMs?: number;
}

/**
 * A Sequelize instance with Duet's models registered. Logging is off: SQL may contain message text.
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
  registerModels(sequelize);
  return sequelize;
}

/** Registers the decorated models on a sequelize-typescript instance (a host's own, or ours). */
export function registerModels(sequelize: BaseSequelize): void {
  if (sequelize instanceof Sequelize) sequelize.addModels([Conversation, Message]);
}

/** Pool figures for /metrics; Sequelize keeps them on its connection manager. */
export function poolStats(sequelize: BaseSequelize): { size: number; available: number; using: number; waiting: number } {
  const pool = (sequelize.connectionManager as unknown as { pool?: Record<string, number> }).pool;
  return {
    size: pool?.size ?? 0,
    available: pool?.available ?? 0,
    using: pool?.using ?? 0,
    waiting: pool?.waiting ?? 0,
  };
}
