import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { type CpuProbe, groupProbe, processProbe } from './proc-cpu';
import { spawnNode, stopChild } from './processes';
import type { BenchUser, ChildMessage, IdleResult, Pair, ParentMessage, RunResult, RunSpec } from './protocol';
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

/**
 * The orchestrator's handle on its load-generator processes: several, so that on two cores the
 * generator is not one event loop that falls behind before the server does.
 */
export class GeneratorPool {
  private constructor(private readonly children: ChildProcess[]) {}

  static start(count: number, nofile: number): GeneratorPool {
    const script = path.join(__dirname, 'load-generator.js');
    const children = Array.from({ length: count }, () =>
      spawnNode(script, [], { env: process.env, nofile, output: 'inherit', ipc: true }),
    );
    return new GeneratorPool(children);
  }

  get size(): number {
    return this.children.length;
  }

  cpuProbe(): CpuProbe {
    return groupProbe('generator', this.children.map((c, i) => processProbe(`generator-${i}`, c.pid!)));
  }

  /** Splits the pairs over the processes (a pair stays in one process: one clock per latency). */
  async connectPairs(url: string, pairs: Pair[]): Promise<void> {
    await Promise.all(
      this.children.map((child, i) =>
        ask(child, { type: 'connect-pairs', url, pairs: pairs.filter((_, k) => k % this.size === i), concurrency: 20 }, 'connected'),
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

  /** Opens idle sockets from every process at once; the connect rate spans first start to last success. */
  async connectIdle(url: string, users: BenchUser[], concurrencyPerProcess: number): Promise<IdleResult> {
    const results = await Promise.all(
      this.children.map((child, i) =>
        ask(
          child,
          { type: 'connect-idle', url, users: users.filter((_, k) => k % this.size === i), concurrency: concurrencyPerProcess },
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

  /** Disconnects every socket and ends the processes. */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.connected) await ask(child, { type: 'close' }, 'closed', 30_000).catch(() => undefined);
        await stopChild(child, 5_000);
      }),
    );
  }

  /** For an interrupted run: no goodbyes. */
  kill(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

type Reply<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** Sends a command and waits for the reply of the given type; a 'failed' reply or an exit rejects. */
function ask<T extends ChildMessage['type']>(child: ChildProcess, message: ParentMessage, expect: T, timeoutMs = 30 * 60_000): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`generator ${child.pid}: no '${expect}' within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (reply: ChildMessage) => {
      if (reply.type === expect) done(undefined, reply as Reply<T>);
      else if (reply.type === 'failed') done(new Error(`generator ${child.pid}: ${reply.message}`));
    };
    const onExit = (code: number | null) => done(new Error(`generator ${child.pid} exited (${code}) while waiting for '${expect}'`));
    function done(err?: Error, reply?: Reply<T>) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(reply!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
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
