/** Latency summaries. Percentiles are nearest-rank over the full sample (no histogram bucketing). */

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Concatenates per-process samples; each generator process reports its own raw latencies. */
export function mergeSamples(parts: readonly Float64Array[]): Float64Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Nearest-rank percentile of an ascending-sorted sample. */
export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : null),
    mean: round(sorted.length ? sum / sorted.length : null),
  };
}

/** Growable float buffer: latencies arrive one by one, and a plain number[] of 100k+ boxes is wasteful. */
export class SampleBuffer {
  private data = new Float64Array(1024);
  private size = 0;

  push(value: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = value;
  }

  toArray(): Float64Array {
    return this.data.slice(0, this.size);
  }
}

/** a / b, or null when either side is missing or b is 0: a ratio against an absent baseline means nothing. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}
