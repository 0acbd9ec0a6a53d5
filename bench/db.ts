import jwt from 'jsonwebtoken';
import { QueryTypes, Sequelize, type Transaction } from 'sequelize';
import type { HostUsersConfig } from '../src/config';
import { hostUsersFromEnv } from '../src/config/host-users';
import { postmasterOf } from './proc-cpu';
import type { BenchUser } from './protocol';

/**
 * The benchmark's own connection to Duet's database: it creates users in the host users table
 * (the server only reads it), seeds bulk data and checks what was stored. Plain SQL throughout.
 */
export class BenchDb {
  readonly users: HostUsersConfig = hostUsersFromEnv(process.env);
  private readonly sequelize: Sequelize;

  /** poolMax 1 keeps every statement on one session, which temporary tables need (and no idle eviction). */
  constructor(url: string, poolMax = 1) {
    this.sequelize = new Sequelize(url, { dialect: 'postgres', logging: false, pool: { max: poolMax, min: 0, idle: 24 * 3600_000 } });
  }

  async rows<T extends object = Record<string, unknown>>(sql: string, bind: unknown[] = [], transaction?: Transaction): Promise<T[]> {
    return this.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, transaction });
  }

  async one<T extends object = Record<string, unknown>>(sql: string, bind: unknown[] = []): Promise<T> {
    const [row] = await this.rows<T>(sql, bind);
    if (!row) throw new Error(`no row from: ${sql.slice(0, 80)}`);
    return row;
  }

  /** DDL and writes whose result we do not need. */
  async exec(sql: string, bind: unknown[] = []): Promise<void> {
    await this.sequelize.query(sql, { bind, type: QueryTypes.RAW });
  }

  close(): Promise<void> {
    return this.sequelize.close();
  }

  get usersTable(): string {
    return `"${this.users.table}"`;
  }

  /** Creates `count` users named `<prefix><n>` in the host table; their ids, in n order. */
  async createUsers(prefix: string, count: number): Promise<number[]> {
    const { idColumn, nameColumn } = this.users;
    const rows = await this.rows<{ id: number }>(
      `INSERT INTO ${this.usersTable} ("${nameColumn}")
       SELECT $1 || g FROM generate_series(0, $2::int - 1) AS g ORDER BY g
       RETURNING "${idColumn}" AS id`,
      [prefix, count],
    );
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }

  /** The cluster's postmaster pid, if it runs on this machine (for its CPU figures). */
  async postmasterPid(): Promise<number | undefined> {
    const { pid } = await this.one<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return postmasterOf(Number(pid));
  }

  async serverVersion(): Promise<string> {
    return (await this.one<{ v: string }>("SELECT current_setting('server_version') AS v")).v;
  }
}

/** HS256 tokens with the secret the servers were started with, as the host product would issue. */
export function tokensFor(ids: readonly number[], secret: string): BenchUser[] {
  return ids.map((id) => ({ id, token: jwt.sign({ sub: String(id) }, secret, { algorithm: 'HS256', expiresIn: '6h' }) }));
}
