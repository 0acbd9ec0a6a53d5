import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embedded';
import { freePort } from './free-port';

/**
 * A PostgreSQL of the test's own, to take away and bring back while a Duet runs on it (the shared
 * test database is never stopped). Stopped, it refuses connections; suspended (SIGSTOP), it hangs:
 * connections open at the TCP level but nothing answers, like a database host that froze.
 */
export interface ThrowawayPostgres {
  url: string;
  /** Fast shutdown: open sessions are ended, new connections refused. */
  stop(): Promise<void>;
  /** Starts it again on the same data and port. */
  start(): Promise<void>;
  /** Freezes the server and every process of it (Linux: found through /proc). */
  suspend(): void;
  resume(): void;
  /** Stops it (resuming it first if need be) and removes its files. */
  remove(): Promise<void>;
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-outage-pg-'));
  // Our own throwaway directory: open it to PostgreSQL's user so the cluster stays in it (as root).
  fs.chmodSync(dataDir, 0o755);
  const port = await freePort();
  const launch = () => startEmbeddedPostgres({ dataDir, port, database: 'duet_outage_test', persistent: true });
  let running: EmbeddedDatabase | undefined = await launch();
  const { url, clusterDir } = running;
  let frozen: number[] = [];

  return {
    url,
    stop: async () => {
      await running?.stop();
      running = undefined;
    },
    start: async () => {
      running ??= await launch();
    },
    suspend: () => {
      const postmaster = Number(fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      frozen = [postmaster, ...childrenOf(postmaster)];
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    resume: () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      frozen = [];
    },
    remove: async () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      await running?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Processes whose parent is `pid` (the postmaster's backends and helpers). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (command) state ppid ...": the command may hold spaces and parentheses.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}
