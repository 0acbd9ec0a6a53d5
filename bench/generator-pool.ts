import { ask, ClientProcesses } from './client-processes';
import type { BenchUser, IdleResult, Pair, RoutedPair, RunResult, RunSpec } from './protocol';
import { type LatencySummary, mergeSamples, summarize } from './stats';

/** What one load run achieved, all generator processes together. */
export interface LoadFigures {
  sent: number;
  /** Acked ok over the whole run (warm-up and drain included), to compare with the stored rows. */
  ackOk: number;
  /** Messages actually sent per second in the window (below the target when the generator lags). */
  sentPerSec: number;
  ackedPerSec: number;
  deliveredPerSec: number;
  ackLatencyMs: LatencySummary;
  e2eLatencyMs: LatencySummary;
  errors: Record<string, number>;
  errorCount: number;
  lost: number;
  duplicates: number;
  late: number;
}

/** The orchestrator's handle on its load-generator processes (bench/load-generator.ts). */
export class GeneratorPool extends ClientProcesses {
  static start(count: number, nofile: number): GeneratorPool {
    return new GeneratorPool(ClientProcesses.spawn('load-generator.js', count, nofile));
  }

  /**
   * Splits the pairs over the processes (a pair stays in one process: one clock per latency). With
   * several server URLs (cluster nodes), pair k's sender uses node k and its receiver node k + 1, so
   * every message crosses nodes and each node sends and receives the same share.
   */
  async connectPairs(urls: readonly string[], pairs: Pair[]): Promise<void> {
    const routed: RoutedPair[] = pairs.map((pair, k) => ({ ...pair, senderUrl: urls[k % urls.length]!, receiverUrl: urls[(k + 1) % urls.length]! }));
    await Promise.all(
      this.children.map((child, i) =>
        ask(child, { type: 'connect-pairs', pairs: routed.filter((_, k) => k % this.size === i), concurrency: 20 }, 'connected'),
      ),
    );
  }

  /** One closed- or open-loop run; an open-loop rate is the total, shared equally. */
  async run(spec: RunSpec): Promise<LoadFigures> {
    const perChild: RunSpec = spec.mode === 'open' ? { ...spec, rate: spec.rate / this.size } : spec;
    const results = await Promise.all(
      this.children.map((child) => ask(child, { type: 'run', spec: perChild }, 'result').then((m) => m.result)),
    );
    return mergeResults(results, spec.durationMs);
  }

  /**
   * Opens idle sockets from every process at once; the connect rate spans first start to last
   * success. With several URLs (cluster nodes), process i connects to node i: as many processes per node.
   */
  async connectIdle(urls: readonly string[], users: BenchUser[], concurrencyPerProcess: number): Promise<IdleResult> {
    const results = await Promise.all(
      this.children.map((child, i) =>
        ask(
          child,
          { type: 'connect-idle', url: urls[i % urls.length]!, users: users.filter((_, k) => k % this.size === i), concurrency: concurrencyPerProcess },
          'idle-connected',
        ).then((m) => m.result),
      ),
    );
    const errors: Record<string, number> = {};
    for (const r of results) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    return {
      connected: results.reduce((n, r) => n + r.connected, 0),
      failed: results.reduce((n, r) => n + r.failed, 0),
      errors,
      startedAt: Math.min(...results.map((r) => r.startedAt)),
      finishedAt: Math.max(...results.map((r) => r.finishedAt)),
    };
  }
}

function mergeResults(results: RunResult[], windowMs: number): LoadFigures {
  const sum = (pick: (r: RunResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  const perSec = (n: number) => Math.round((n / windowMs) * 1000 * 10) / 10;
  const errors: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  return {
    sent: sum((r) => r.sent),
    ackOk: sum((r) => r.ackOk),
    sentPerSec: perSec(sum((r) => r.sentInWindow)),
    ackedPerSec: perSec(sum((r) => r.ackedInWindow)),
    deliveredPerSec: perSec(sum((r) => r.deliveredInWindow)),
    ackLatencyMs: summarize(mergeSamples(results.map((r) => r.ackLatencyMs))),
    e2eLatencyMs: summarize(mergeSamples(results.map((r) => r.e2eLatencyMs))),
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
    lost: sum((r) => r.lost),
    duplicates: sum((r) => r.duplicates),
    late: sum((r) => r.late),
  };
}
