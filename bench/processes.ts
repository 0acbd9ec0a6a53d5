import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** Starting, waiting for and stopping the child processes of a benchmark run. */

/** A free TCP port on the loopback interface (the OS picks it; we release it straight away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface NodeChildOptions {
  env: NodeJS.ProcessEnv;
  /** Open-file limit to ask for: every socket is a file descriptor, on both ends. */
  nofile?: number;
  /** Where stdout/stderr go: a log file path, or 'inherit'. */
  output: string | 'inherit';
  /** An IPC channel (structured-clone serialization, so Float64Arrays cross cheaply). */
  ipc?: boolean;
  /** Flags for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
}

/**
 * Runs `node script args` through `sh -c 'ulimit -n …; exec node …'`: Node cannot raise its own
 * descriptor limit, and exec keeps the pid, so /proc/<pid> is the node process itself.
 */
export function spawnNode(script: string, args: readonly string[], options: NodeChildOptions): ChildProcess {
  const nofile = options.nofile ?? 65_536;
  // As root the hard limit can be raised; otherwise fall back to the hard limit we have.
  const shell = `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
  const out = options.output === 'inherit' ? 'inherit' : fs.openSync(options.output, 'a');
  const child = spawn('/bin/sh', ['-c', shell, process.execPath, ...(options.nodeArgs ?? []), script, ...args], {
    env: options.env,
    stdio: ['ignore', out, out, ...(options.ipc ? (['ipc'] as const) : [])],
    serialization: 'advanced',
  });
  if (typeof out === 'number') fs.closeSync(out);
  return child;
}

/** Resolves when GET url answers 200; rejects if the child exits first or time runs out. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  const onExit = () => (exited = true);
  child.once('exit', onExit);
  try {
    while (Date.now() < deadline) {
      if (exited || child.exitCode !== null) throw new Error(`process exited (code ${child.exitCode}) before ${url} answered`);
      if ((await httpStatus(url)) === 200) return;
      await sleep(200);
    }
    throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
  } finally {
    child.off('exit', onExit);
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

/** SIGTERM, then SIGKILL after graceMs: the Duet server stops its embedded PostgreSQL on SIGTERM. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<'exited' | 'killed'> {
  if (child.exitCode !== null || child.signalCode !== null) return 'exited';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout' as const);
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'exited') return 'exited';
  child.kill('SIGKILL');
  await exited;
  return 'killed';
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
