import 'reflect-metadata';
import type { Sequelize as BaseSequelize } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Conversation } from '../conversations/conversation.model';
import { Message } from '../messages/message.model';

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
}

/** A Sequelize instance with Duet's models registered. Logging is off: SQL may contain message text. */
export function createSequelize({ url, poolMax = 10 }: DatabaseOptions): Sequelize {
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    logging: false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 10_000 },
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
