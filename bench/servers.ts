import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './args';
import { freePort, spawnNode, stopChild, tail, waitForHttp } from './processes';
import { embeddedDatabaseUrl } from '../src/db/embedded';
import { envPrefix, RATE_CLASSES } from '../src/limits/rate-classes';

/** The two servers under test, each in its own child process. */

export interface ServerHandle {
  name: 'duet' | 'relay';
  url: string;
  pid: number;
  log: string;
  stop(): Promise<void>;
}

const DIST = path.resolve(__dirname, '..');

async function launch(
  name: ServerHandle['name'],
  script: string,
  env: NodeJS.ProcessEnv,
  port: number,
  log: string,
  readyTimeoutMs: number,
  nodeArgs: readonly string[] = [],
): Promise<ServerHandle> {
  const child: ChildProcess = spawnNode(script, [], {
    env,
    output: log,
    nofile: 65_536,
    ipc: true,
    nodeArgs: ['--require', path.join(__dirname, 'exit-with-parent.js'), ...nodeArgs],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/ready`, child, readyTimeoutMs);
  } catch (err) {
    await stopChild(child, 20_000);
    throw new Error(`${name} did not start: ${(err as Error).message}\n--- ${log} ---\n${tail(log)}`);
  }
  return {
    name,
    url,
    pid: child.pid!,
    log,
    stop: async () => {
      // Duet stops its embedded PostgreSQL on SIGTERM; give it time to do so before SIGKILL.
      if ((await stopChild(child, 30_000)) === 'killed') process.stderr.write(`warning: ${name} had to be killed (see ${log})\n`);
    },
  };
}

export interface DuetLaunch {
  secret: string;
  workDir: string;
  /** Unset: embedded PostgreSQL in workDir/data. */
  databaseUrl?: string;
  /** Reuse across restarts so the embedded database (and its port) stay the same. */
  port: number;
  pgPort: number;
  /** Write a V8 CPU profile of the server into this directory when it stops. */
  cpuProfileDir?: string;
  /** Extra node flags (A/B runs of V8 settings). */
  nodeArgs?: readonly string[];
  /** A node of a cluster: the Redis it shares with the other nodes, and the run's key prefix. */
  redis?: { url: string; keyPrefix: string };
  /** The log file's name in workDir, without `.log` (default `duet`). */
  logName?: string;
  /** More environment for Duet (the webhook settings of `--webhooks`). */
  env?: Record<string, string>;
}

/** Duet as it ships: `node dist/src/main.js`, with the per-user fair-use buckets out of the way. */
export async function startDuet(options: DuetLaunch): Promise<ServerHandle> {
  const dataDir = path.join(options.workDir, 'data'); // benchDatabaseUrl reads the cluster's password here
  fs.mkdirSync(dataDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the directory.
  fs.chmodSync(options.workDir, 0o755);
  fs.chmodSync(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(options.port),
    JWT_SECRET: options.secret,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(options.pgPort),
    // The load is many users at full speed: fair use would refuse it by design.
    ...Object.fromEntries(RATE_CLASSES.flatMap((c) => [[`${envPrefix(c)}_BURST`, '1000000000'], [`${envPrefix(c)}_PER_SEC`, '1000000000']])),
  };
  // Only what this launch asks for: a REDIS_URL in the harness's environment must not make one node a cluster.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'WEBHOOK_URL', 'WEBHOOK_SECRET']) delete env[name];
  Object.assign(env, options.env);
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  if (options.redis) Object.assign(env, { REDIS_URL: options.redis.url, REDIS_KEY_PREFIX: options.redis.keyPrefix });
  const nodeArgs = [...(options.nodeArgs ?? [])];
  if (options.cpuProfileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  return launch('duet', path.join(DIST, 'src', 'main.js'), env, options.port, path.join(options.workDir, `${options.logName ?? 'duet'}.log`), 180_000, nodeArgs);
}

/** The URL of the cluster Duet embeds for this run (database `duet`, its password in the data directory). */
export function benchDatabaseUrl(workDir: string, pgPort: number): string {
  return embeddedDatabaseUrl(path.join(workDir, 'data'), pgPort, 'duet');
}

export async function startRelay(secret: string, workDir: string, port?: number): Promise<ServerHandle> {
  const relayPort = port ?? (await freePort());
  const env = { ...process.env, PORT: String(relayPort), JWT_SECRET: secret };
  return launch('relay', path.join(__dirname, 'relay.js'), env, relayPort, path.join(workDir, 'relay.log'), 30_000);
}

/** Refuses the test suite's database: the benchmark writes millions of rows. */
export function checkBenchDatabaseUrl(url: string): void {
  let name: string;
  try {
    name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  } catch {
    throw new UsageError('BENCH_DATABASE_URL is not a valid URL');
  }
  if (!name) throw new UsageError('BENCH_DATABASE_URL must name a database');
  if (/(^|_)test($|_)/i.test(name)) throw new UsageError(`BENCH_DATABASE_URL names "${name}": never benchmark against a test database`);
}
