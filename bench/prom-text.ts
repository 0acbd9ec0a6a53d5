/** Reading Duet's /metrics (Prometheus text format, prom-client's default metrics among them). */

export interface PromText {
  /** A sample without labels, e.g. `nodejs_heap_size_used_bytes`; null when absent. */
  gauge(name: string): number | null;
  /** The sum of every sample of `name` (any labels) whose line contains `filter`. */
  sum(name: string, filter?: string): number;
  /** Samples of `name` keyed by the value of one label, e.g. heap spaces by `space`. */
  byLabel(name: string, label: string): Record<string, number>;
}

export function parsePromText(text: string): PromText {
  const lines = text.split('\n').filter((line) => line && !line.startsWith('#'));
  const value = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
  return {
    gauge(name) {
      const line = lines.find((l) => l.startsWith(`${name} `));
      return line ? value(line) : null;
    },
    sum(name, filter = '') {
      return lines.filter((l) => l.startsWith(name) && l.includes(filter)).reduce((total, l) => total + value(l), 0);
    },
    byLabel(name, label) {
      const out: Record<string, number> = {};
      const pattern = new RegExp(`${label}="([^"]*)"`);
      for (const line of lines) {
        if (!line.startsWith(`${name}{`)) continue;
        const match = pattern.exec(line);
        if (match) out[match[1]!] = value(line);
      }
      return out;
    },
  };
}

export async function fetchMetrics(url: string): Promise<PromText> {
  return parsePromText(await (await fetch(url)).text());
}
