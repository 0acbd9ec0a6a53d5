import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { type ClusterLocation, locateCluster, makeTraversable } from './cluster-location';
import { EmbeddedPostgresError } from './embedded-postgres-error';
import { canReach, postgresAccount } from './postgres-account';
import { cachedCopy, findPostgresBinaries, type PostgresBinaries } from './postgres-binaries';
import { type ClusterSpec, initialiseCluster, PASSWORD_REFUSED, type RunningServer, startServer, SUPERUSER, tryConnect } from './postgres-server';

export { EmbeddedPostgresError } from './embedded-postgres-error';

export interface EmbeddedDatabase {
  url: string;
  /** Where the cluster's files are (DATA_DIR/pg, EMBEDDED_PG_DIR, or the place DATA_DIR/pg links to). */
  clusterDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** false: the cluster is removed on stop (tests). */
  persistent: boolean;
  /** EMBEDDED_PG_DIR: the cluster's directory instead of DATA_DIR/pg. */
  clusterDir?: string;
  /** Where root keeps a copy of the binaries that PostgreSQL's user can reach (tests point it elsewhere). */
  binariesCacheDir?: string;
  /** Where root puts a cluster when DATA_DIR is out of the `postgres` user's reach. */
  fallbackRoot?: string;
}

/** Root's copy of the binaries, keyed by package version. */
export const DEFAULT_BINARIES_CACHE_DIR = '/var/cache/duet/postgres';
const PASSWORD_FILE = 'pg-password';
/** The superuser password of clusters made before Duet kept a random one in DATA_DIR. */
const OLD_DEFAULT_PASSWORD = 'postgres';

/**
 * A real PostgreSQL from the npm registry's platform package (nothing is downloaded at run time).
 * As root it runs as the `postgres` system user, from a copy of the binaries and a cluster
 * directory that user can reach; see the README, "Embedded PostgreSQL".
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  try {
    return await start(options);
  } catch (err) {
    // One readable message for every failure (a file system error included), never a bare stack.
    throw err instanceof EmbeddedPostgresError ? err : new EmbeddedPostgresError((err as Error).message ?? String(err));
  }
}

async function start(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const account = postgresAccount();
  makeTraversable(options.dataDir);
  const location = locateCluster(account, { dataDir: options.dataDir, override: options.clusterDir, fallbackRoot: options.fallbackRoot });
  let binaries: PostgresBinaries = findPostgresBinaries();
  if (!canReach(account, binaries.postgres)) binaries = cachedCopy(binaries, options.binariesCacheDir ?? DEFAULT_BINARIES_CACHE_DIR);
  const spec: ClusterSpec = { binaries, account, dir: location.dir, port: options.port };

  const password = readOrCreatePassword(options.dataDir);
  const fresh = !fs.existsSync(path.join(spec.dir, 'PG_VERSION'));
  if (fresh) await initialiseCluster(spec, password.value);
  const server = await startServer(spec, password.value);
  try {
    await adoptPassword(spec.port, password, fresh);
    await createDatabaseIfMissing(spec.port, password.value, options.database);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password.value)}@127.0.0.1:${options.port}/${encodeURIComponent(options.database)}`,
    clusterDir: spec.dir,
    stop: () => stopAndMaybeRemove(server, location, options.persistent),
  };
}

/** The URL of a running embedded cluster made for this DATA_DIR (the benchmark connects to it). */
export function embeddedDatabaseUrl(dataDir: string, port: number, database: string): string {
  const password = fs.readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim();
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

interface ClusterPassword {
  value: string;
}

/** The superuser's password lives in DATA_DIR, readable by Duet's user only. */
function readOrCreatePassword(dataDir: string): ClusterPassword {
  const file = path.join(dataDir, PASSWORD_FILE);
  if (fs.existsSync(file)) {
    fs.chmodSync(file, 0o600);
    return { value: fs.readFileSync(file, 'utf8').trim() };
  }
  const value = crypto.randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value };
}

/**
 * A cluster from an older Duet still has the fixed password: switch it to the random one. Also
 * when the file was written by a start that died before the switch (the old password still works).
 */
async function adoptPassword(port: number, password: ClusterPassword, fresh: boolean): Promise<void> {
  const attempt = await tryConnect(port, password.value);
  if (attempt.ok) return;
  if (fresh || attempt.code !== PASSWORD_REFUSED || !(await tryConnect(port, OLD_DEFAULT_PASSWORD)).ok) {
    throw new EmbeddedPostgresError(`the cluster refuses the password kept in ${PASSWORD_FILE} (${attempt.message})`, [
      `restore the ${PASSWORD_FILE} file that was made with this cluster, or move the cluster away to start an empty one`,
    ]);
  }
  await withClient(port, OLD_DEFAULT_PASSWORD, 'postgres', async (client) => {
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(password.value)}`);
  });
}

async function createDatabaseIfMissing(port: number, password: string, database: string): Promise<void> {
  await withClient(port, password, 'postgres', async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!found.rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  });
}

async function withClient(port: number, password: string, database: string, work: (client: Client) => Promise<void>): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

async function stopAndMaybeRemove(server: RunningServer, location: ClusterLocation, persistent: boolean): Promise<void> {
  await server.stop();
  if (persistent) return;
  fs.rmSync(location.dir, { recursive: true, force: true });
  if (location.linkedFrom) fs.rmSync(location.linkedFrom, { force: true });
}
