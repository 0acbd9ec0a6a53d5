import { ask, ClientProcesses } from './client-processes';
import type { IdleResult, Pair, SoakClientResult, SoakSpec } from './protocol';
import { type LatencySummary, mergeSamples, summarize } from './stats';

/** What the soak's clients saw, all processes together: their counts, and the latencies summarised. */
export type SoakTraffic = Omit<SoakClientResult, 'ackLatencyMs' | 'e2eLatencyMs'> & {
  ackLatencyMs: LatencySummary;
  e2eLatencyMs: LatencySummary;
};

/** The orchestrator's handle on the soak's client processes (bench/soak-client.ts). */
export class SoakPool extends ClientProcesses {
  static start(count: number, nofile: number): SoakPool {
    return new SoakPool(ClientProcesses.spawn('soak-client.js', count, nofile));
  }

  /** Splits the pairs over the processes (a pair stays in one process: one clock per latency). */
  async connect(url: string, pairs: Pair[], concurrencyPerProcess: number): Promise<IdleResult & { openFileLimits: (number | null)[] }> {
    const replies = await Promise.all(
      this.children.map((child, i) =>
        ask(child, { type: 'soak-connect', url, pairs: pairs.filter((_, k) => k % this.size === i), concurrency: concurrencyPerProcess }, 'soak-connected'),
      ),
    );
    const results = replies.map((r) => r.result);
    return {
      connected: results.reduce((n, r) => n + r.connected, 0),
      failed: results.reduce((n, r) => n + r.failed, 0),
      errors: mergeCounts(results.map((r) => r.errors)),
      startedAt: Math.min(...results.map((r) => r.startedAt)),
      finishedAt: Math.max(...results.map((r) => r.finishedAt)),
      openFileLimits: replies.map((r) => r.openFileLimit),
    };
  }

  /** Sends at `spec.rate` in total (shared equally) and resolves when every process has drained. */
  async send(spec: SoakSpec): Promise<SoakTraffic> {
    const perChild: SoakSpec = { ...spec, rate: spec.rate / this.size };
    const timeoutMs = spec.sendMs + spec.drainMs + 60_000;
    const results = await Promise.all(this.children.map((child) => ask(child, { type: 'soak-send', spec: perChild }, 'soak-result', timeoutMs).then((m) => m.result)));
    const sum = (pick: (r: SoakClientResult) => number) => results.reduce((n, r) => n + pick(r), 0);
    return {
      sent: sum((r) => r.sent),
      skipped: sum((r) => r.skipped),
      ackOk: sum((r) => r.ackOk),
      errors: mergeCounts(results.map((r) => r.errors)),
      delivered: sum((r) => r.delivered),
      lost: sum((r) => r.lost),
      duplicates: sum((r) => r.duplicates),
      senderCopies: sum((r) => r.senderCopies),
      dropped: sum((r) => r.dropped),
      dropReasons: mergeCounts(results.map((r) => r.dropReasons)),
      sessionExpired: sum((r) => r.sessionExpired),
      connectedAtEnd: sum((r) => r.connectedAtEnd),
      ackLatencyMs: summarize(mergeSamples(results.map((r) => r.ackLatencyMs))),
      e2eLatencyMs: summarize(mergeSamples(results.map((r) => r.e2eLatencyMs))),
    };
  }
}

function mergeCounts(parts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of parts) for (const [key, n] of Object.entries(part)) out[key] = (out[key] ?? 0) + n;
  return out;
}
