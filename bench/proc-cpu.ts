import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * CPU and memory of processes, read from /proc: the benchmark shares two cores between the server,
 * PostgreSQL and the load generator, so every throughput figure is reported with who burnt the CPU.
 */

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ is 100 on every mainstream Linux build
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  ppid: number;
  comm: string;
  /** utime + stime, in ticks. */
  own: number;
  /** cutime + cstime: CPU of children that exited and were reaped, in ticks. */
  reaped: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself contain spaces or ')': split after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  return { ppid: Number(f[1]), comm, own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

/** Resident set size in bytes, or null if the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Something whose cumulative CPU seconds can be sampled; null when it cannot be seen from here. */
export interface CpuProbe {
  readonly label: string;
  seconds(): number | null;
}

/** One process (the server, the relay, a generator). Keeps its last value if it has exited. */
export function processProbe(label: string, pid: number): CpuProbe {
  let last: number | null = null;
  return {
    label,
    seconds() {
      const stat = readStat(pid);
      if (stat) last = stat.own / clockTicks();
      return last;
    },
  };
}

/** Several processes counted as one (e.g. all generator processes). */
export function groupProbe(label: string, probes: readonly CpuProbe[]): CpuProbe {
  return {
    label,
    seconds() {
      let total = 0;
      let seen = false;
      for (const probe of probes) {
        const s = probe.seconds();
        if (s !== null) {
          total += s;
          seen = true;
        }
      }
      return seen ? total : null;
    },
  };
}

function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === parent) pids.push(Number(entry));
  }
  return pids;
}

/**
 * All of one PostgreSQL cluster: the postmaster's own CPU, its live children (backends, walwriter,
 * checkpointer, autovacuum...), and, through cutime/cstime, children that exited in between (pool
 * connections come and go), so a delta between two samples counts every process of the cluster.
 */
export function postgresProbe(postmasterPid: number): CpuProbe {
  let last: number | null = null;
  return {
    label: 'postgres',
    seconds() {
      const master = readStat(postmasterPid);
      if (!master) return last;
      let ticks = master.own + master.reaped;
      for (const child of childrenOf(postmasterPid)) ticks += readStat(child)?.own ?? 0;
      last = ticks / clockTicks();
      return last;
    },
  };
}

/**
 * The postmaster of the cluster a backend belongs to: a backend's parent is the postmaster. Works
 * for the embedded cluster and for a local BENCH_DATABASE_URL; undefined when the database runs
 * elsewhere (its processes are not in our /proc).
 */
export function postmasterOf(backendPid: number): number | undefined {
  const backend = readStat(backendPid);
  if (!backend) return undefined;
  const parent = readStat(backend.ppid);
  return parent && /^postgres|^postmaster/.test(parent.comm) ? backend.ppid : undefined;
}

/** CPU used by each probe between two points in time. */
export class CpuMeter {
  private start = new Map<string, number | null>();
  private startedAt = 0;

  constructor(private readonly probes: readonly CpuProbe[]) {}

  begin(): void {
    this.startedAt = performance.now();
    this.start = new Map(this.probes.map((p) => [p.label, p.seconds()]));
  }

  /** CPU seconds used since begin(), per probe, and the wall time in seconds. */
  end(): { wallSeconds: number; cpuSeconds: Record<string, number | null> } {
    const wallSeconds = (performance.now() - this.startedAt) / 1000;
    const cpuSeconds: Record<string, number | null> = {};
    for (const probe of this.probes) {
      const before = this.start.get(probe.label);
      const after = probe.seconds();
      cpuSeconds[probe.label] = before === null || before === undefined || after === null ? null : round3(after - before);
    }
    return { wallSeconds: round3(wallSeconds), cpuSeconds };
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
