import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { type EmbeddedDatabase, EmbeddedPostgresError, startEmbeddedPostgres } from '../../src/db/embedded';
import { postgresAccount } from '../../src/db/embedded/postgres-account';
import { cachedCopy, findPostgresBinaries } from '../../src/db/embedded/postgres-binaries';
import { freePort } from '../helpers/free-port';

/**
 * The embedded PostgreSQL as a newcomer meets it: `npm start` as root from a clone in a 0700 home,
 * restarts, clusters made by older versions, and failures that must read as one clear message.
 */
const asRoot = process.getuid?.() === 0;
let scratch: string;
const started: EmbeddedDatabase[] = [];

beforeEach(() => {
  // mkdtemp makes a 0700 directory: the case of a clone under /root.
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-embedded-'));
});

afterEach(async () => {
  for (const db of started.splice(0)) await db.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Where root's fallback clusters go in these tests (the real default is /var/lib/duet/postgres). */
function fallbackRoot(): string {
  const dir = path.join(os.tmpdir(), `duet-embedded-fallback-${path.basename(scratch)}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  return dir;
}

async function start(dataDir: string, extra: { port?: number; clusterDir?: string; fallback?: string } = {}): Promise<EmbeddedDatabase> {
  const db = await startEmbeddedPostgres({
    dataDir,
    port: extra.port ?? (await freePort()),
    database: 'duet_embedded',
    persistent: true,
    clusterDir: extra.clusterDir,
    fallbackRoot: extra.fallback,
  });
  started.push(db);
  return db;
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function stop(db: EmbeddedDatabase): Promise<void> {
  started.splice(started.indexOf(db), 1);
  await db.stop();
}

it('starts from a DATA_DIR inside a 0700 directory and keeps its data across restarts', async () => {
  const fallback = fallbackRoot();
  try {
    const dataDir = path.join(scratch, 'clone', '.data');
    let db = await start(dataDir, { fallback });
    await query(db.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');

    const link = fs.lstatSync(path.join(dataDir, 'pg'));
    const cluster = fs.statSync(db.clusterDir);
    expect(cluster.mode & 0o777).toBe(0o700);
    if (asRoot) {
      // postgres cannot enter the 0700 parent: the cluster lives outside it, DATA_DIR/pg points there.
      expect(link.isSymbolicLink()).toBe(true);
      expect(db.clusterDir.startsWith(fallback)).toBe(true);
      expect(fs.realpathSync(path.join(dataDir, 'pg'))).toBe(fs.realpathSync(db.clusterDir));
      expect(cluster.uid).toBe(postgresAccount()!.uid);
      // The user's own directory was not opened up to make it work.
      expect(fs.statSync(scratch).mode & 0o777).toBe(0o700);
    } else {
      expect(link.isDirectory()).toBe(true);
      expect(db.clusterDir).toBe(path.join(dataDir, 'pg'));
    }
    expect(fs.statSync(path.join(dataDir, 'pg-password')).mode & 0o777).toBe(0o600);

    await stop(db);
    db = await start(dataDir, { fallback });
    expect(await query(db.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
  } finally {
    // Stop the cluster before removing its directory: a running postgres still writes there.
    await Promise.all(started.splice(0).map((db) => db.stop()));
    fs.rmSync(fallback, { recursive: true, force: true });
  }
});

it('puts the cluster in EMBEDDED_PG_DIR when it is set', async () => {
  const clusterParent = path.join(os.tmpdir(), `duet-embedded-override-${path.basename(scratch)}`);
  fs.mkdirSync(clusterParent, { mode: 0o755 });
  fs.chmodSync(clusterParent, 0o755);
  try {
    const clusterDir = path.join(clusterParent, 'cluster');
    const db = await start(path.join(scratch, 'data'), { clusterDir });
    expect(db.clusterDir).toBe(clusterDir);
    expect(fs.existsSync(path.join(clusterDir, 'PG_VERSION'))).toBe(true);
    expect(await query(db.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  } finally {
    await Promise.all(started.splice(0).map((db) => db.stop()));
    fs.rmSync(clusterParent, { recursive: true, force: true });
  }
});

it('switches a cluster made with the old fixed password to a random one kept in DATA_DIR', async () => {
  fs.chmodSync(scratch, 0o755);
  const dataDir = path.join(scratch, 'data');
  let db = await start(dataDir);
  const port = Number(new URL(db.url).port);
  await query(db.url, "ALTER ROLE postgres PASSWORD 'postgres'");
  await stop(db);
  fs.rmSync(path.join(dataDir, 'pg-password'));

  db = await start(dataDir, { port });
  const password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  expect(password).not.toBe('postgres');
  expect(decodeURIComponent(new URL(db.url).password)).toBe(password);
  expect(await query(db.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  await expect(query(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
});

it('a port that another program holds ends in one readable error that names the ways out', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    fs.chmodSync(scratch, 0o755);
    const failure = await start(path.join(scratch, 'data'), { port }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    const message = (failure as Error).message;
    expect(message).toMatch(/^the embedded PostgreSQL did not start: /);
    expect(message).toContain(`EMBEDDED_PG_PORT`);
    expect(message).toContain('DATABASE_URL');
    expect(message).toMatch(/Address already in use/);
  } finally {
    holder.close();
  }
});

it('an EMBEDDED_PG_DIR that PostgreSQL cannot reach is refused with a clear message', async () => {
  // As root, postgres cannot enter the 0700 scratch; as a regular user nothing stops us, so an
  // unwritable parent stands in.
  const blocked = path.join(scratch, 'blocked');
  fs.mkdirSync(blocked, { mode: asRoot ? 0o755 : 0o500 });
  const clusterDir = path.join(blocked, 'cluster');
  const failure = await start(path.join(os.tmpdir(), `duet-embedded-data-${path.basename(scratch)}`), { clusterDir }).catch((err: unknown) => err);
  fs.rmSync(path.join(os.tmpdir(), `duet-embedded-data-${path.basename(scratch)}`), { recursive: true, force: true });
  expect(failure).toBeInstanceOf(EmbeddedPostgresError);
  expect((failure as Error).message).toContain(scratch);
  expect((failure as Error).message).toContain('Ways out:');
});

it("copies the binaries for PostgreSQL's user with their library symlinks, once per version", () => {
  const cacheDir = path.join(scratch, 'cache');
  const copy = cachedCopy(findPostgresBinaries(), cacheDir);
  expect(copy.root).toBe(path.join(cacheDir, copy.key));
  const libs = fs.readdirSync(path.join(copy.root, 'lib')).filter((name) => fs.lstatSync(path.join(copy.root, 'lib', name)).isSymbolicLink());
  if (process.platform === 'linux') expect(libs).toContain('libpq.so.5');
  const version = spawnSync(copy.postgres, ['--version'], { encoding: 'utf8' });
  expect(version.stdout).toMatch(/PostgreSQL\) \d+/);
  const mtime = fs.statSync(copy.root).mtimeMs;
  expect(cachedCopy(findPostgresBinaries(), cacheDir).root).toBe(copy.root);
  expect(fs.statSync(copy.root).mtimeMs).toBe(mtime);
});
