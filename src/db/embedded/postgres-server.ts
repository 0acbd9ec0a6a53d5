import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresError } from './embedded-postgres-error';
import type { PostgresAccount } from './postgres-account';
import type { PostgresBinaries } from './postgres-binaries';

export const SUPERUSER = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** SQLSTATE of a refused password: the server is up, only not for this password (an older cluster). */
export const PASSWORD_REFUSED = '28P01';

export interface ClusterSpec {
  binaries: PostgresBinaries;
  account: PostgresAccount;
  dir: string;
  port: number;
}

/** initdb for a new cluster: the superuser's password from a file only its owner can read. */
export async function initialiseCluster(spec: ClusterSpec, password: string): Promise<void> {
  const passwordFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'duet-pg-init-')), 'password');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (spec.account) {
    fs.chownSync(path.dirname(passwordFile), spec.account.uid, spec.account.gid);
    fs.chownSync(passwordFile, spec.account.uid, spec.account.gid);
  }
  try {
    // English server messages whatever the locale: PASSWORD_REFUSED reads them.
    const args = [`--pgdata=${spec.dir}`, `--username=${SUPERUSER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', `--locale=${bestLocale()}`, '--lc-messages=C'];
    const { code, output } = await runToEnd(spawnAs(spec, spec.binaries.initdb, args));
    if (code !== 0) throw new EmbeddedPostgresError(`initdb exited with code ${code}`, [], output);
  } finally {
    fs.rmSync(path.dirname(passwordFile), { recursive: true, force: true });
  }
}

export interface RunningServer {
  stop(): Promise<void>;
}

/**
 * Starts postgres on 127.0.0.1 only (no unix socket), in its own process group so that a Ctrl-C
 * meant for Duet does not stop the database under a graceful shutdown; Duet stops it last.
 */
export async function startServer(spec: ClusterSpec, password: string): Promise<RunningServer> {
  refuseIfAlreadyRunning(spec.dir);
  const child = spawnAs(spec, spec.binaries.postgres, ['-D', spec.dir, '-p', String(spec.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=']);
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => keepTail(output, chunk));
  child.stderr?.on('data', (chunk: Buffer) => keepTail(output, chunk));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(`postgres exited (code ${code}, signal ${signal})`));
  });
  // If Duet exits without stopping it (an uncaught error), postgres still shuts itself down.
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  for (;;) {
    const reason = await Promise.race([exited, sleep(100).then(() => undefined)]);
    if (reason !== undefined) {
      process.removeListener('exit', stopOnExit);
      throw new EmbeddedPostgresError(`${reason}, port ${spec.port}, cluster ${spec.dir}`, portWayOut(spec.port), output.join(''));
    }
    const attempt = await tryConnect(spec.port, password);
    if (attempt.ok || attempt.code === PASSWORD_REFUSED) break; // up; the caller deals with the password
    lastError = attempt.message;
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      process.removeListener('exit', stopOnExit);
      throw new EmbeddedPostgresError(`postgres did not accept connections within ${START_TIMEOUT_MS / 1000} s (${lastError})`, [], output.join(''));
    }
  }
  return {
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGINT'); // fast shutdown: ends sessions, checkpoints, exits
      const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
    },
  };
}

function spawnAs(spec: ClusterSpec, program: string, args: string[]): ChildProcess {
  return spawn(program, args, {
    ...(spec.account ?? {}),
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function runToEnd(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => keepTail(output, chunk));
  child.stderr?.on('data', (chunk: Buffer) => keepTail(output, chunk));
  return new Promise((resolve) => {
    child.once('error', (err) => resolve({ code: -1, output: `${err.message}\n${output.join('')}` }));
    child.once('close', (code) => resolve({ code, output: output.join('') }));
  });
}

export type ConnectAttempt = { ok: true } | { ok: false; code?: string; message: string };

/** Whether a connection with the superuser's password succeeds, and if not, why (SQLSTATE, message). */
export async function tryConnect(port: number, password: string, database = 'postgres'): Promise<ConnectAttempt> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code, message: (err as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A postgres left behind by a killed Duet still holds its cluster; starting another would fail obscurely. */
function refuseIfAlreadyRunning(dir: string): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (!pid || !isAlive(pid)) return;
  throw new EmbeddedPostgresError(`a PostgreSQL from an earlier run (pid ${pid}) still runs on ${dir}`, [
    `stop it with \`kill ${pid}\` (PostgreSQL shuts down cleanly on SIGTERM) and start Duet again`,
  ]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function portWayOut(port: number): string[] {
  return [`if another program holds port ${port}, set EMBEDDED_PG_PORT to a free port`];
}

/** A UTF-8 locale every machine has, so that text functions and search behave the same everywhere. */
function bestLocale(): string {
  if (process.platform === 'win32') return 'C';
  try {
    const available = new Set(execFileSync('locale', ['-a'], { stdio: 'pipe' }).toString().split(/\r?\n/));
    return ['C.UTF-8', 'C.utf8', 'en_US.UTF-8', 'en_US.utf8'].find((name) => available.has(name)) ?? 'C';
  } catch {
    return 'C';
  }
}

function keepTail(lines: string[], chunk: Buffer): void {
  lines.push(chunk.toString('utf8'));
  if (lines.length > 40) lines.shift();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
