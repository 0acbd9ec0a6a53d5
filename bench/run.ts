import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchOptions, parseArgs, UsageError } from './args';
import { BackgroundProbe } from './background';
import { BenchDb, tokensFor } from './db';
import type { ClientProcesses } from './client-processes';
import { type Cluster, startCluster } from './cluster';
import { GeneratorPool } from './generator-pool';
import { measureIdle } from './idle';
import { machineInfo } from './machine';
import { postgresProbe, processProbe } from './proc-cpu';
import { freePort } from './processes';
import type { Pair } from './protocol';
import { measureReads, type ReadTargets, sampleIds } from './reads';
import { type BenchRedis, openRedis } from './redis';
import { type BenchResults, evaluateTargets, type IdleRun, renderTables, writeResults } from './report';
import { BulkSeeder } from './seed-bulk';
import { benchDatabaseUrl, checkBenchDatabaseUrl, type ServerHandle, startDuet, startRelay } from './servers';
import { runSoak } from './soak';
import { closedLoop, kneeSweep, type KneeResult, type MeasuredRun, type Target } from './throughput';
import { BacklogSampler, BenchReceiver } from './webhook-cost';
import { ratio } from './stats';
import { sleep } from './processes';

/**
 * `npm run bench`: starts the relay baseline and Duet (`node dist/src/main.js`, embedded
 * PostgreSQL unless BENCH_DATABASE_URL), runs the parts in order — closed loop, knee, reads at
 * scale, idle sockets, soak — and writes bench/results/<date>.json plus a table. Every child process is
 * stopped at the end, also on Ctrl-C.
 */

const RESULTS_DIR = path.resolve(__dirname, '../../bench/results');
const say = (line: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

class Session {
  relay?: ServerHandle;
  duet?: ServerHandle;
  /** With --nodes N > 1: the Redis the cluster shares, opened once, and the cluster while it runs. */
  redis?: BenchRedis;
  cluster?: Cluster;
  db?: BenchDb;
  seedDb?: BenchDb;
  pools = new Set<ClientProcesses>();
  readonly workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-bench-'));
  readonly secret = crypto.randomBytes(32).toString('hex');
  /** Distinguishes this run's users and messages from any earlier run's in the same database. */
  readonly tag = Date.now().toString(36);
  duetPort = 0;
  pgPort = 0;

  constructor(readonly options: BenchOptions) {}

  get databaseUrl(): string {
    return this.options.databaseUrl ?? benchDatabaseUrl(this.workDir, this.pgPort);
  }

  /** What every Duet process of the run is started with, one node or a cluster's. */
  private get duetLaunch() {
    return {
      secret: this.secret,
      workDir: this.workDir,
      pgPort: this.pgPort,
      cpuProfileDir: this.options.profileDuet ? path.join(this.workDir, 'cpu-profiles') : undefined,
      nodeArgs: this.options.duetNodeArgs,
    };
  }

  /** Duet alone, restarted with `env` (its embedded PostgreSQL restarts with it, same data). */
  async restartDuet(env?: Record<string, string>): Promise<void> {
    await this.db?.close().catch(() => undefined);
    await this.duet?.stop();
    this.duet = await startDuet({ ...this.duetLaunch, databaseUrl: this.options.databaseUrl, port: this.duetPort, env });
    this.db = new BenchDb(this.databaseUrl);
  }

  async startServers(): Promise<void> {
    if (!this.duetPort) [this.duetPort, this.pgPort] = [await freePort(), await freePort()];
    [this.relay, this.duet] = await Promise.all([
      startRelay(this.secret, this.workDir),
      startDuet({ ...this.duetLaunch, databaseUrl: this.options.databaseUrl, port: this.duetPort }),
    ]);
    this.db = new BenchDb(this.databaseUrl);
  }

  /** Duet on options.nodes nodes, sharing the one-node Duet's database and the run's Redis. */
  async startCluster(): Promise<Cluster> {
    this.redis ??= await openRedis(this.workDir);
    this.cluster = await startCluster({
      ...this.duetLaunch,
      nodes: this.options.nodes,
      databaseUrl: this.databaseUrl,
      redis: this.redis,
      keyPrefix: `duet-bench-${this.tag}:`,
    });
    return this.cluster;
  }

  /** Before the one-node Duet stops: it owns the embedded PostgreSQL the nodes use. */
  async stopCluster(): Promise<void> {
    await this.cluster?.stop();
    this.cluster = undefined;
  }

  /** Clients first, then the servers (Duet's SIGTERM stops its embedded PostgreSQL). */
  async stopServers(): Promise<void> {
    await this.db?.close().catch(() => undefined);
    await this.seedDb?.close().catch(() => undefined);
    this.db = this.seedDb = undefined;
    await Promise.all([this.relay?.stop(), this.duet?.stop()]);
    this.relay = this.duet = undefined;
  }

  async shutdown(): Promise<void> {
    for (const pool of this.pools) pool.kill();
    await this.stopCluster().catch((err: unknown) => say(`stopping the cluster: ${err instanceof Error ? err.message : String(err)}`));
    await this.stopServers();
    await this.redis?.stop();
    if (!this.options.keep) fs.rmSync(this.workDir, { recursive: true, force: true });
    else say(`kept ${this.workDir} (server logs, embedded data)`);
  }
}

async function throughput(s: Session, results: BenchResults): Promise<void> {
  const { options } = s;
  const db = s.db!;
  const ids = await db.createUsers(`bench-pair-${s.tag}-`, options.pairs * 2);
  const users = tokensFor(ids, s.secret);
  const pairs: Pair[] = Array.from({ length: options.pairs }, (_, i) => ({ sender: users[2 * i]!, receiver: users[2 * i + 1]! }));
  const senders = pairs.map((p) => p.sender.id);
  const postmaster = await db.postmasterPid();
  if (!postmaster) results.notes.push('PostgreSQL runs where /proc cannot see it: no postgres CPU figures');
  const pgProbes = postmaster ? [postgresProbe(postmaster)] : [];
  const storedRows = async (tag: string) => {
    const row = await db.one<{ rows: number; distinct: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT (sender_id, client_message_id))::int AS distinct
         FROM messages WHERE sender_id = ANY($1::int[]) AND client_message_id LIKE $2`,
      [senders, `${tag}-%`],
    );
    return { rows: Number(row.rows), distinct: Number(row.distinct) };
  };

  const closed: Partial<Record<Target['name'], MeasuredRun>> = {};
  const knees: Partial<Record<Target['name'], KneeResult>> = {};
  const measure = async (target: Target) => {
    const pool = GeneratorPool.start(options.generatorProcesses, 4096 + options.pairs * 2);
    s.pools.add(pool);
    try {
      await pool.connectPairs(target.urls, pairs);
      if (options.parts.has('closed')) {
        say(`closed loop, ${target.name}: ${options.pairs} pairs × ${options.inFlight} in flight, ${options.closedSeconds} s`);
        const run = await closedLoop(target, pool, options);
        closed[target.name] = run;
        say(`  acked ${run.ackedPerSec}/s, ack p50 ${run.ackLatencyMs.p50} ms, e2e p99 ${run.e2eLatencyMs.p99} ms, errors ${run.errorCount}, lost ${run.lost}`);
      }
      if (options.parts.has('knee')) {
        say(`open-loop steps, ${target.name}: ${options.rates.join(', ')} msgs/s, ${options.stepSeconds} s each`);
        knees[target.name] = await kneeSweep(target, pool, options);
      }
    } finally {
      await pool.close();
      s.pools.delete(pool);
    }
  };
  await measure({ name: 'relay', urls: [s.relay!.url], probes: [processProbe('relay', s.relay!.pid)] });
  await measure({
    name: 'duet',
    urls: [s.duet!.url],
    probes: [processProbe('duet', s.duet!.pid), ...pgProbes],
    background: new BackgroundProbe(db, `${s.duet!.url}/metrics`),
    storedRows,
  });
  if (options.nodes > 1) {
    const cluster = await startClusterFor(s, results);
    try {
      await measure({ name: 'cluster', urls: cluster.urls, probes: [...cluster.probes, ...pgProbes], storedRows });
    } finally {
      await s.stopCluster();
    }
  }
  if (closed.relay && closed.duet) {
    results.closedLoop = { pairs: options.pairs, inFlight: options.inFlight, relay: closed.relay, duet: closed.duet, ...(closed.cluster && { cluster: closed.cluster }) };
  }
  if (knees.relay && knees.duet) {
    results.knee = { p99BoundMs: options.p99BoundMs, pairs: options.pairs, relay: knees.relay, duet: knees.duet, ...(knees.cluster && { cluster: knees.cluster }) };
  }

  // The reads are measured at exact message counts: take the throughput runs' rows out again.
  await db.exec('DELETE FROM conversations WHERE participant_1_id = ANY($1::int[]) OR participant_2_id = ANY($1::int[])', [ids]);
  if (options.webhooks && closed.duet) await webhookCost(s, results, closed.duet);
}

/**
 * --webhooks: the closed loop again on a Duet restarted with webhooks on, delivering to a local
 * receiver that answers 204, against the run without them just measured. Duet is restarted without
 * webhooks afterwards, so the later parts measure what they always did.
 */
async function webhookCost(s: Session, results: BenchResults, off: MeasuredRun): Promise<void> {
  const { options } = s;
  const receiver = new BenchReceiver();
  const url = await receiver.start();
  say('restarting Duet with webhooks on (local receiver answering 204)');
  await s.restartDuet({ WEBHOOK_URL: url, WEBHOOK_SECRET: `whsec_${crypto.randomBytes(32).toString('base64')}` });
  const db = s.db!;
  const pending = async () => Number((await db.one<{ n: string }>("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'")).n);
  const ids = await db.createUsers(`bench-webhooks-${s.tag}-`, options.pairs * 2);
  const users = tokensFor(ids, s.secret);
  const pairs: Pair[] = Array.from({ length: options.pairs }, (_, i) => ({ sender: users[2 * i]!, receiver: users[2 * i + 1]! }));
  const pool = GeneratorPool.start(options.generatorProcesses, 4096 + options.pairs * 2);
  s.pools.add(pool);
  const backlog = new BacklogSampler(pending);
  let on: MeasuredRun;
  try {
    await pool.connectPairs([s.duet!.url], pairs);
    say(`closed loop, duet with webhooks: ${options.pairs} pairs × ${options.inFlight} in flight, ${options.closedSeconds} s`);
    backlog.start();
    on = await closedLoop({ name: 'duet', urls: [s.duet!.url], probes: [processProbe('duet', s.duet!.pid)] }, pool, options);
  } finally {
    await pool.close();
    s.pools.delete(pool);
  }
  const sampled = await backlog.stop();
  const drainStarted = performance.now();
  let drainSeconds: number | null = null;
  while (performance.now() - drainStarted < 60_000) {
    if ((await pending()) === 0) {
      drainSeconds = Math.round((performance.now() - drainStarted) / 100) / 10;
      break;
    }
    await sleep(100);
  }
  const delivered = receiver.received;
  results.webhooks = { off, on, ratio: ratio(on.ackedPerSec, off.ackedPerSec), backlog: sampled, drainSeconds, delivered, deliveryLatencyMs: receiver.take() };
  const w = results.webhooks;
  say(`  acked ${on.ackedPerSec}/s with webhooks vs ${off.ackedPerSec}/s without: ${w.ratio === null ? '—' : Math.round(w.ratio * 1000) / 10} %`);
  say(`  backlog max ${sampled.max} (first half ${sampled.firstHalfMax}, second ${sampled.secondHalfMax}), drained ${drainSeconds ?? 'not'} s after; ${delivered} delivered, delivery p50 ${w.deliveryLatencyMs.p50} ms, p99 ${w.deliveryLatencyMs.p99} ms`);
  await db.exec('DELETE FROM conversations WHERE participant_1_id = ANY($1::int[]) OR participant_2_id = ANY($1::int[])', [ids]);
  await db.exec('DELETE FROM webhook_deliveries');
  await receiver.stop();
  say('restarting Duet without webhooks');
  await s.restartDuet();
}

/** Starts the cluster and records, once, what it runs on (and why its Redis figures may not be ours alone). */
async function startClusterFor(s: Session, results: BenchResults): Promise<Cluster> {
  say(`starting ${s.options.nodes} Duet nodes with Redis`);
  const cluster = await s.startCluster();
  const redis = s.redis!;
  if (!results.cluster) {
    results.cluster = { nodes: s.options.nodes, redis: { origin: redis.origin, version: redis.version, otherClients: redis.otherClients, cpuMeasured: redis.pid !== null } };
    if (redis.pid === null) results.notes.push('Redis runs where /proc cannot see it: no Redis CPU figures');
    if (redis.otherClients > 0) results.notes.push(`the machine's Redis had ${redis.otherClients} other client(s): its CPU figures include their work`);
  }
  say(`  ${cluster.urls.join(', ')}; Redis ${redis.version} (${redis.origin}) at ${redis.url}`);
  return cluster;
}

/** The seeded users, kept for the idle part, which uses the same realistic users. */
let seededUserIds: number[] = [];

async function reads(s: Session, results: BenchResults): Promise<void> {
  const { options } = s;
  s.seedDb = new BenchDb(s.databaseUrl, 1);
  const seeder = new BulkSeeder(s.seedDb, options.seed, s.tag);
  say(`seeding ${options.seed.users.toLocaleString('en')} users and ${(options.seed.users * options.seed.conversationsPerUser).toLocaleString('en')} conversations`);
  const base = await seeder.seedBase();
  seededUserIds = base.userIds;
  const users = tokensFor(sampleIds(base.userIds, options.readUsers), s.secret);
  results.reads = { shape: options.seed, levels: [] };

  for (const level of options.readLevels) {
    const started = performance.now();
    say(`seeding messages up to ${level.toLocaleString('en')}`);
    let lastReport = 0;
    await seeder.growTo(level, (done) => {
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        say(`  ${done.toLocaleString('en')} messages`);
      }
    });
    const seedSeconds = Math.round((performance.now() - started) / 100) / 10;
    await seeder.verify();
    const probes = await Promise.all(
      (await seeder.probes()).map(async (p) => {
        const row = await s.seedDb!.one<{ id: number }>(
          'SELECT id FROM messages WHERE conversation_id = $1 AND deleted_at IS NULL ORDER BY id DESC OFFSET 1000 LIMIT 1',
          [p.conversationId],
        );
        return { conversationId: p.conversationId, user: tokensFor([p.userId], s.secret)[0]!, beforeId: Number(row.id) };
      }),
    );
    const { n } = await s.seedDb.one<{ n: number }>('SELECT count(*)::bigint AS n FROM messages');
    const targets: ReadTargets = { probes, users, words: seeder.words };
    say(`reads at ${level.toLocaleString('en')} messages (seeded in ${seedSeconds} s): ${options.readSamples} requests per endpoint`);
    // The first level also warms the server's code paths (JIT, caches): give it a longer warm-up.
    const warmup = results.reads.levels.length === 0 ? options.readWarmup * 3 : options.readWarmup;
    const endpoints = await measureReads(s.duet!.url, targets, options.readSamples, warmup);
    results.reads.levels.push({ messages: level, messageRows: Number(n), seedSeconds, endpoints });
    for (const [name, e] of Object.entries(endpoints)) say(`  ${name}: p50 ${e.p50} ms, p99 ${e.p99} ms${e.errors ? `, ${e.errors} errors` : ''}`);
  }
}

async function idle(s: Session, results: BenchResults): Promise<void> {
  const { options } = s;
  let ids = seededUserIds.slice(0, options.idleSockets);
  let who = `${options.idleSockets.toLocaleString('en')} seeded users with ${2 * options.seed.conversationsPerUser} conversations each`;
  const withPartners = ids.length === options.idleSockets;
  if (!withPartners) {
    ids = [...ids, ...(await s.db!.createUsers(`bench-idle-${s.tag}-`, options.idleSockets - ids.length))];
    who = `${options.idleSockets.toLocaleString('en')} users (${seededUserIds.length ? 'some' : 'none'} with conversations)`;
  }
  results.idle = await idleRun(s, results, ids, who);
  if (withPartners) {
    // The issue's connect-rate target is JWT plus user lookup; seeded users add a presence frame to
    // every online partner per connect. New users, who have no partners, measure the target as worded.
    const fresh = await s.db!.createUsers(`bench-bare-${s.tag}-`, options.idleSockets);
    results.idle.withoutPartners = await idleRun(s, results, fresh, `${options.idleSockets.toLocaleString('en')} new users without conversations`);
  }
}

async function idleRun(s: Session, results: BenchResults, ids: number[], who: string): Promise<IdleRun> {
  const { options } = s;
  // Fresh server processes: the RSS per socket must not be hidden in heap left free by earlier parts.
  say(`restarting both servers for idle sockets of ${who}`);
  await s.stopServers();
  await s.startServers();
  const users = tokensFor(ids, s.secret);
  const idleOptions = {
    perProcess: options.idlePerProcess,
    concurrency: options.idleConcurrency,
    settleMs: options.idleSettleMs,
    warmupSockets: options.idleWarmupSockets,
  };
  say(`idle sockets, relay: ${users.length}`);
  const relay = await measureIdle({ urls: [s.relay!.url], pids: [s.relay!.pid] }, users, idleOptions);
  say(`  ${relay.connected} connected at ${relay.connectRate}/s, ${relay.rssPerSocketBytes} B RSS per socket`);
  say(`idle sockets, duet: ${users.length}`);
  const duet = await measureIdle({ urls: [s.duet!.url], pids: [s.duet!.pid] }, users, idleOptions);
  say(`  ${duet.connected} connected at ${duet.connectRate}/s, ${duet.rssPerSocketBytes} B RSS per socket`);
  if (options.nodes === 1) return { users: who, relay, duet };
  // Fresh nodes, like the restarted servers above; the users spread evenly over them.
  const cluster = await startClusterFor(s, results);
  try {
    say(`idle sockets, ${options.nodes} nodes: ${users.length}`);
    const figures = await measureIdle({ urls: cluster.urls, pids: cluster.nodes.map((node) => node.pid), redisPid: s.redis!.pid }, users, idleOptions);
    say(`  ${figures.connected} connected at ${figures.connectRate}/s, ${figures.rssPerSocketBytes} B RSS per socket (all nodes), Redis ${figures.redisRssPerSocketBytes ?? '—'} B`);
    return { users: who, relay, duet, cluster: figures };
  } finally {
    await s.stopCluster();
  }
}

async function soak(s: Session, results: BenchResults): Promise<void> {
  // Like the idle part: memory growth must be measured from a heap that earlier parts did not fill.
  if ([...s.options.parts].some((part) => part !== 'soak')) {
    say('restarting both servers for the soak');
    await s.stopServers();
    await s.startServers();
  }
  results.soak = await runSoak({ duet: s.duet!, db: s.db!, secret: s.secret, tag: s.tag, pools: s.pools, say }, s.options.soak);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.databaseUrl) checkBenchDatabaseUrl(options.databaseUrl);
  const startedAt = new Date();
  const s = new Session(options);
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    profile: options.profile,
    options: { ...options, parts: [...options.parts], databaseUrl: options.databaseUrl ? '(BENCH_DATABASE_URL)' : undefined },
    machine: machineInfo(),
    database: options.databaseUrl ? 'BENCH_DATABASE_URL' : 'embedded',
    notes: [],
  };
  let failed = false;
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping everything`);
    void s.shutdown().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  say(`profile ${options.profile}; parts ${[...options.parts].join(', ')}; work dir ${s.workDir}`);
  try {
    await s.startServers();
    results.machine.postgres = await s.db!.serverVersion();
    say(`relay on ${s.relay!.url}, duet on ${s.duet!.url} (${results.database} PostgreSQL ${results.machine.postgres})`);
    const parts: [boolean, string, (s: Session, r: BenchResults) => Promise<void>][] = [
      [options.parts.has('closed') || options.parts.has('knee'), 'throughput', throughput],
      [options.parts.has('reads'), 'reads', reads],
      [options.parts.has('idle'), 'idle', idle],
      [options.parts.has('soak'), 'soak', soak],
    ];
    for (const [enabled, name, part] of parts) {
      if (!enabled || interrupted) continue;
      try {
        await part(s, results);
      } catch (err) {
        // Record and go on: a failed part should not throw away the others' figures.
        failed = true;
        const message = err instanceof Error ? err.message : String(err);
        results.notes.push(`${name} failed: ${message.split('\n')[0]}`);
        say(`${name} FAILED: ${message}`);
      }
    }
  } catch (err) {
    failed = true;
    results.notes.push(`start-up failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    say(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (!interrupted) await s.shutdown();
  }
  if (interrupted) return;

  const finishedAt = new Date();
  results.finishedAt = finishedAt.toISOString();
  results.durationSeconds = Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000);
  results.targets = evaluateTargets(results);
  if (results.machine.loadAverageAtStart[0]! > results.machine.nproc * 0.5) {
    results.notes.push(`load average was ${results.machine.loadAverageAtStart.join(' ')} at the start: other work shared the CPUs`);
  }
  const file = writeResults(results, RESULTS_DIR);
  process.stdout.write(renderTables(results));
  say(`results: ${path.relative(process.cwd(), file)} (${results.durationSeconds} s)`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
