import type { SeedShape } from './seed-bulk';
import type { SoakOptions } from './soak';

/** Command-line flags and the three profiles: --quick (about a minute), default, --full (adds 10M). */

/** A mistake in the flags or the environment: printed as a message, without a stack. */
export class UsageError extends Error {}

export const PARTS = ['closed', 'knee', 'reads', 'idle', 'soak'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  profile: 'quick' | 'default' | 'full';
  parts: Set<Part>;
  pairs: number;
  inFlight: number;
  closedSeconds: number;
  warmupSeconds: number;
  drainSeconds: number;
  rates: number[];
  stepSeconds: number;
  stepWarmupSeconds: number;
  /** The knee's latency bound on end-to-end p99. */
  p99BoundMs: number;
  /** An open-loop rate always run, even past saturation (its p50/p99 is a target of its own). */
  referenceRate: number;
  generatorProcesses: number;
  readLevels: number[];
  readSamples: number;
  readWarmup: number;
  readUsers: number;
  seed: SeedShape;
  idleSockets: number;
  idlePerProcess: number;
  idleConcurrency: number;
  idleSettleMs: number;
  idleWarmupSockets: number;
  soak: SoakOptions;
  /** Keep the temporary directory (server logs, embedded data) after the run. */
  keep: boolean;
  /** Start Duet under --cpu-prof; the profiles land in the (kept) work directory. */
  profileDuet: boolean;
  /** Extra node flags for Duet's process, for A/B runs of V8 settings. */
  duetNodeArgs: string[];
  /** Above 1: the send path and idle sockets are also measured on a cluster of this many Duet nodes and Redis. */
  nodes: number;
  /** Also run the closed loop with webhooks on (a local receiver answering 204) and compare. */
  webhooks: boolean;
  databaseUrl?: string;
}

const USAGE = `npm run bench -- [flags]

Profiles:  (default) throughput + knee + reads at 10k and 1M messages + 10k idle sockets, ~10 min
  --quick              every part tiny, about a minute
  --full               the default plus reads at 10M messages (adds a long seeding step)
Parts:
  --only a,b           run only these parts: ${PARTS.join(', ')}
  --skip a,b           skip these parts
Throughput:
  --pairs N            sender/receiver pairs (default 50)
  --in-flight K        messages in flight per sender in the closed loop (default 1)
  --duration S         closed-loop measurement seconds (default 10)
  --rates a,b,c        open-loop steps, msgs/s (default 500,1000,1500,2000,3000,4000,6000,8000)
  --step-seconds S     seconds per open-loop step (default 4)
  --procs N            load-generator processes (default 2)
Reads:
  --levels a,b         message counts to measure reads at (default 10000,1000000; --full adds 10000000)
  --read-samples N     requests per endpoint per level (default 1000: a p99 of 300 is its 3rd-worst value)
Idle:
  --idle N             idle sockets per server (default 10000)
Soak (in no profile; ask for it: --only soak):
  --soak-sockets N     sockets held (default 5000), half of them sending to the other half in turns
  --soak-minutes M     measured minutes after the warm-up (default 10; --quick: 1)
  --soak-rate R        messages per second, all pairs together (default 50)
  --soak-warmup S      warm-up seconds before memory is first read (default 60)
Several nodes:
  --nodes N            also run closed loop, knee and idle sockets on N Duet nodes sharing PostgreSQL and
                       Redis, the two users of each pair on different nodes (default 1: no cluster run);
                       Redis is a private redis-server, else (no binary) the machine's at 127.0.0.1:6379
Webhooks:
  --webhooks           run the closed loop again with webhooks on (a local receiver answering 204):
                       both throughputs, their ratio (target ≥ 80 %), the outbox backlog over the run
                       and the p99 delivery latency
Other:
  --keep               keep the temporary directory (server logs, embedded database)
  --profile-duet       run Duet under node --cpu-prof (implies --keep); open the .cpuprofile in
                       Chrome DevTools or speedscope
  --duet-node-args "…" extra node flags for Duet's process (e.g. "--max-semi-space-size=32"),
                       for A/B runs of V8 settings; recorded in the results file
Environment:
  BENCH_DATABASE_URL   run Duet against this PostgreSQL instead of an embedded one (never a test database)
`;

const list = (raw: string) => raw.split(',').map((s) => s.trim()).filter(Boolean);
const numbers = (raw: string, flag: string) =>
  list(raw).map((s) => {
    const n = Number(s.replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000'));
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: "${s}" is not a positive number`);
    return n;
  });

function defaults(profile: BenchOptions['profile']): BenchOptions {
  const base: BenchOptions = {
    profile,
    // The soak takes eleven minutes or more: only when asked for by name.
    parts: new Set(PARTS.filter((p) => p !== 'soak')),
    pairs: 50,
    inFlight: 1,
    closedSeconds: 10,
    warmupSeconds: 2,
    drainSeconds: 10,
    rates: [500, 1000, 1500, 2000, 3000, 4000, 6000, 8000],
    stepSeconds: 4,
    stepWarmupSeconds: 1,
    p99BoundMs: 50,
    referenceRate: 1000,
    generatorProcesses: 2,
    readLevels: profile === 'full' ? [10_000, 1_000_000, 10_000_000] : [10_000, 1_000_000],
    readSamples: 1000,
    readWarmup: 30,
    // More users than samples per endpoint, as with 300 of 500 before: most requests find a cold user cache.
    readUsers: 2_000,
    seed: {
      users: 10_000,
      conversationsPerUser: 10,
      probes: 5,
      probeMessages: 1_200,
      probeShareLater: 0.01,
      unreadShare: 0.05,
      chunk: 200_000,
    },
    idleSockets: 10_000,
    idlePerProcess: 5_000,
    idleConcurrency: 50,
    idleSettleMs: 3_000,
    idleWarmupSockets: 200,
    soak: {
      sockets: 5_000,
      minutes: 10,
      warmupSeconds: 60,
      rate: 50,
      sampleSeconds: 5,
      perProcess: 5_000,
      minProcesses: 2,
      concurrency: 50,
      drainSeconds: 10,
      maxGrowth: 0.1,
    },
    keep: false,
    profileDuet: false,
    duetNodeArgs: [],
    nodes: 1,
    webhooks: false,
    databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
  };
  if (profile !== 'quick') return base;
  return {
    ...base,
    pairs: 10,
    closedSeconds: 3,
    warmupSeconds: 1,
    drainSeconds: 5,
    rates: [250, 500, 1000],
    stepSeconds: 2,
    stepWarmupSeconds: 0.5,
    readLevels: [10_000, 50_000],
    readSamples: 50,
    readWarmup: 10,
    readUsers: 100,
    seed: { ...base.seed, users: 1_000, probes: 3, chunk: 50_000 },
    idleSockets: 500,
    idleSettleMs: 1_500,
    idleWarmupSockets: 50,
    soak: { ...base.soak, sockets: 500, minutes: 1, warmupSeconds: 15 },
  };
}

const VALUE_FLAGS = ['--only', '--skip', '--pairs', '--in-flight', '--duration', '--rates', '--step-seconds', '--procs', '--levels', '--read-samples', '--idle', '--duet-node-args', '--soak-sockets', '--soak-minutes', '--soak-rate', '--soak-warmup', '--nodes'];

export function parseArgs(argv: readonly string[]): BenchOptions {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const profile = argv.includes('--quick') ? 'quick' : argv.includes('--full') ? 'full' : 'default';
  const options = defaults(profile);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--quick' || flag === '--full') continue;
    if (flag === '--keep') {
      options.keep = true;
      continue;
    }
    if (flag === '--webhooks') {
      options.webhooks = true;
      continue;
    }
    if (flag === '--profile-duet') {
      options.profileDuet = options.keep = true;
      continue;
    }
    if (!VALUE_FLAGS.includes(flag)) throw new UsageError(`unknown flag ${flag}\n\n${USAGE}`);
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value\n\n${USAGE}`);
    const one = () => numbers(value, flag)[0]!;
    switch (flag) {
      case '--only':
      case '--skip': {
        const named = list(value);
        for (const part of named) if (!(PARTS as readonly string[]).includes(part)) throw new UsageError(`${flag}: unknown part "${part}"`);
        if (flag === '--only') options.parts = new Set(named as Part[]);
        else for (const part of named) options.parts.delete(part as Part);
        break;
      }
      case '--pairs': options.pairs = Math.round(one()); break;
      case '--in-flight': options.inFlight = Math.round(one()); break;
      case '--duration': options.closedSeconds = one(); break;
      case '--rates': options.rates = numbers(value, flag).sort((a, b) => a - b); break;
      case '--step-seconds': options.stepSeconds = one(); break;
      case '--procs': options.generatorProcesses = Math.round(one()); break;
      case '--levels': options.readLevels = numbers(value, flag).map(Math.round).sort((a, b) => a - b); break;
      case '--read-samples': options.readSamples = Math.round(one()); break;
      case '--idle': options.idleSockets = Math.round(one()); break;
      case '--soak-sockets': options.soak.sockets = Math.max(2, Math.round(one())); break;
      case '--soak-minutes': options.soak.minutes = one(); break;
      case '--soak-rate': options.soak.rate = one(); break;
      case '--soak-warmup': options.soak.warmupSeconds = one(); break;
      case '--nodes': options.nodes = Math.round(one()); break;
      case '--duet-node-args': options.duetNodeArgs = value.split(/\s+/).filter(Boolean); break;
      default:
        throw new UsageError(`unknown flag ${flag}\n\n${USAGE}`);
    }
  }
  return options;
}
