import http from 'node:http';
import type { BenchUser } from './protocol';
import { type LatencySummary, SampleBuffer, summarize } from './stats';

/**
 * The read paths over HTTP with real tokens, one request at a time on a keep-alive connection:
 * latency here is the cost of one request, not queueing behind others.
 */

export interface ReadProbe {
  conversationId: number;
  user: BenchUser;
  /** The id 1,000 messages back from the newest, for the `before=` page. */
  beforeId: number;
}

export interface ReadTargets {
  probes: ReadProbe[];
  /** Random seeded users, for the list, unread and search reads. */
  users: BenchUser[];
  words: string[];
}

export interface EndpointFigures extends LatencySummary {
  errors: number;
  /** Mean response body size, bytes: a growing payload explains a growing latency. */
  meanBytes: number;
}

export const READ_ENDPOINTS = ['history_newest', 'history_1000_back', 'conversation_list', 'unread_count', 'search'] as const;
export type ReadEndpoint = (typeof READ_ENDPOINTS)[number];

/** Deterministic choice, so two runs ask for comparable things. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function request(agent: http.Agent, base: URL, path: string, token: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: base.hostname, port: base.port, path, agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

/**
 * `samples` requests per endpoint after `warmup` each, interleaved round-robin so that no endpoint
 * gets a quieter or a busier stretch of time than another.
 */
export async function measureReads(baseUrl: string, targets: ReadTargets, samples: number, warmup: number): Promise<Record<ReadEndpoint, EndpointFigures>> {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const random = prng(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

  const next: Record<ReadEndpoint, () => { path: string; token: string }> = {
    history_newest: () => {
      const p = pick(targets.probes);
      return { path: `/api/chat/conversations/${p.conversationId}/messages`, token: p.user.token };
    },
    history_1000_back: () => {
      const p = pick(targets.probes);
      return { path: `/api/chat/conversations/${p.conversationId}/messages?before=${p.beforeId}`, token: p.user.token };
    },
    conversation_list: () => ({ path: '/api/chat/conversations', token: pick(targets.users).token }),
    unread_count: () => ({ path: '/api/chat/unread-count', token: pick(targets.users).token }),
    search: () => ({ path: `/api/chat/search?q=${encodeURIComponent(pick(targets.words))}`, token: pick(targets.users).token }),
  };

  const latencies = Object.fromEntries(READ_ENDPOINTS.map((e) => [e, new SampleBuffer()])) as Record<ReadEndpoint, SampleBuffer>;
  const errors = Object.fromEntries(READ_ENDPOINTS.map((e) => [e, 0])) as Record<ReadEndpoint, number>;
  const bytes = Object.fromEntries(READ_ENDPOINTS.map((e) => [e, 0])) as Record<ReadEndpoint, number>;
  try {
    for (let i = 0; i < warmup + samples; i++) {
      for (const endpoint of READ_ENDPOINTS) {
        const { path, token } = next[endpoint]();
        const started = performance.now();
        const res = await request(agent, base, path, token).catch(() => ({ status: 0, bytes: 0 }));
        const elapsed = performance.now() - started;
        if (i < warmup) continue;
        if (res.status !== 200) errors[endpoint]++;
        else {
          latencies[endpoint].push(elapsed);
          bytes[endpoint] += res.bytes;
        }
      }
    }
  } finally {
    agent.destroy();
  }
  const out = {} as Record<ReadEndpoint, EndpointFigures>;
  for (const endpoint of READ_ENDPOINTS) {
    const summary = summarize(latencies[endpoint].toArray());
    out[endpoint] = { ...summary, errors: errors[endpoint], meanBytes: summary.count ? Math.round(bytes[endpoint] / summary.count) : 0 };
  }
  return out;
}

/** Random users out of the seeded ones (without repeats when there are enough). */
export function sampleIds(ids: readonly number[], count: number, seed = 7): number[] {
  const random = prng(seed);
  const copy = [...ids];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, Math.min(count, copy.length));
}
