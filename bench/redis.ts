import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type CpuProbe, processProbe, rssBytes } from './proc-cpu';
import { freePort, sleep, tail } from './processes';

/**
 * The Redis a cluster run shares between its Duet nodes: a private redis-server for the run, so that
 * its CPU is the run's alone (like the bench's own PostgreSQL), or the machine's at 127.0.0.1:6379
 * when no redis-server binary is installed. Spoken to through redis-cli, so the bench needs no
 * Redis client library of its own.
 */

const MACHINE_PORT = 6379;

export interface BenchRedis {
  url: string;
  /** 'machine': another program's Redis, which other clients may use too (its CPU then counts theirs). */
  origin: 'machine' | 'private';
  version: string;
  /** The redis-server process, when this machine's /proc shows it. */
  pid: number | null;
  cpuProbe(): CpuProbe | null;
  rssBytes(): number | null;
  /** Other clients connected when we first looked: > 0 means the Redis CPU figures are not ours alone. */
  otherClients: number;
  /** Deletes every key that starts with `prefix` (SCAN MATCH + UNLINK); how many. */
  deleteKeys(prefix: string): Promise<number>;
  /** Stops a private server; leaves the machine's alone. */
  stop(): Promise<void>;
}

function cli(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000, maxBuffer: 256 * 2 ** 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return (await cli(port, ['PING']).catch(() => '')).trim() === 'PONG';
}

/** One field of `INFO <section>` (lines `name:value`). */
async function info(port: number, section: string, field: string): Promise<string | undefined> {
  const text = await cli(port, ['INFO', section]);
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

/** The server's pid if it is a redis-server we can read in /proc (not in another PID namespace). */
function visiblePid(pid: number): number | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis') ? pid : null;
  } catch {
    return null;
  }
}

/**
 * A private redis-server without persistence. It runs under a shell that reads our pipe: when the
 * harness stops it, or dies (kill -9), the pipe closes and the shell stops Redis, so no server is
 * left on its port. The shell ignores Ctrl-C's SIGINT, which would end it before it stops Redis.
 */
async function startPrivate(workDir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const log = path.join(workDir, 'redis.log');
  const out = fs.openSync(log, 'a');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const child = spawn('/bin/sh', ['-c', 'trap "" INT; "$0" "$@" & read _; kill $!; wait $!', 'redis-server', ...args], { stdio: ['pipe', out, out] });
  fs.closeSync(out);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
    if (await answers(port)) return { port, child };
    if (child.exitCode !== null) break;
  }
  child.stdin!.end();
  throw new Error(`redis-server did not answer on port ${port}\n--- ${log} ---\n${tail(log)}`);
}

function hasRedisServer(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, 'redis-server')));
}

export async function openRedis(workDir: string): Promise<BenchRedis> {
  const machine = !hasRedisServer() && (await answers(MACHINE_PORT));
  const { port, child } = machine ? { port: MACHINE_PORT, child: undefined } : await startPrivate(workDir);
  const pid = visiblePid(Number(await info(port, 'server', 'process_id')));
  const probe = pid === null ? null : processProbe('redis', pid);
  return {
    url: `redis://127.0.0.1:${port}`,
    origin: machine ? 'machine' : 'private',
    version: (await info(port, 'server', 'redis_version')) ?? 'unknown',
    pid,
    cpuProbe: () => probe,
    rssBytes: () => (pid === null ? null : rssBytes(pid)),
    // connected_clients counts the redis-cli asking, too.
    otherClients: Number(await info(port, 'clients', 'connected_clients')) - 1,
    async deleteKeys(prefix) {
      const keys = (await cli(port, ['--scan', '--pattern', `${prefix}*`])).split('\n').filter(Boolean);
      for (let i = 0; i < keys.length; i += 500) await cli(port, ['UNLINK', ...keys.slice(i, i + 500)]);
      return keys.length;
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      // Not SIGTERM to the shell: it would die before it stops Redis.
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      await Promise.race([exited, sleep(10_000)]);
    },
  };
}
