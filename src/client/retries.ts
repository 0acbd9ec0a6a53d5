import { DuetApiError } from './errors';

export interface RetryOptions {
  /** Tries in all, the first included (default 5). */
  attempts?: number;
  /** The first wait; each next one doubles, with jitter (default 250 ms). A 429's retryAfterMs wins. */
  baseMs?: number;
}

/** Makes a client message id: unique per send, reused by its retries. */
export function newClientMessageId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the attempts run out. Safe for sends only
 * because every attempt carries the same clientMessageId: the server stores it once.
 */
export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const baseMs = options.baseMs ?? 250;
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof DuetApiError) || !err.retryable || tried >= attempts) throw err;
      const backoff = baseMs * 2 ** (tried - 1);
      await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs ?? backoff / 2 + Math.random() * backoff));
    }
  }
}
