// What every answer to a fuzzed request or event must look like, and the run's seed and heap.
import v8 from 'node:v8';
import vm from 'node:vm';
import { Writable } from 'node:stream';
import fc, { type RunDetails } from 'fast-check';
import winston from 'winston';
import type { Logger } from '../../src/shared/logger';
import { ERROR_STATUS, type ErrorCode } from '../../src/shared/errors';

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/**
 * The seed of this run: FUZZ_SEED replays a run, otherwise a fresh one. It is printed before the
 * run, so that even a run that crashes the process can be replayed.
 */
export function fuzzSeed(label: string): number {
  const given = process.env.FUZZ_SEED;
  const seed = given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${given}`);
  console.info(`${label}: seed ${seed} (FUZZ_SEED=${seed} replays this run)`);
  return seed;
}

/**
 * fast-check's failure report, cut to a readable size: counterexamples hold strings of tens of
 * kilobytes. The seed and path replay it in full.
 */
export function shortReport<T>(details: RunDetails<T>): void {
  if (!details.failed) return;
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `Property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}")\n` +
      `Problem: ${cut(cause, 1500)}\nCounterexample: ${cut(fc.stringify(details.counterexample), 3000)}`,
  );
}

/**
 * The contract's error envelope: a known code, a non-empty message, optional details and
 * retryAfterMs, nothing else. Returns what is wrong, or undefined. INTERNAL is always wrong, and so
 * is UNAVAILABLE: the database is up while the fuzzers run, so it would mean a starved pool.
 */
export function envelopeProblem(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || Array.isArray(error)) return `error is not an object: ${JSON.stringify(error)}`;
  const { code, message, details, retryAfterMs } = error as Record<string, unknown>;
  if (!CODES.includes(code as ErrorCode)) return `unknown code ${JSON.stringify(code)}`;
  if (code === 'INTERNAL' || code === 'UNAVAILABLE') return code;
  if (typeof message !== 'string' || message === '') return 'no message';
  if (details !== undefined && !Array.isArray(details)) return 'details is not an array';
  if (retryAfterMs !== undefined && (code !== 'RATE_LIMITED' || typeof retryAfterMs !== 'number')) return 'stray retryAfterMs';
  const extra = Object.keys(error).filter((key) => !['code', 'message', 'details', 'retryAfterMs'].includes(key));
  return extra.length ? `extra keys ${extra.join(', ')}` : undefined;
}

/** A REST answer: 2xx, or the status of a known code with the envelope as the whole JSON body. */
export function restProblem(status: number, contentType: string | undefined, text: string): string | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (!/^application\/json/.test(contentType ?? '')) return `status ${status} with content type ${contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON`;
  }
  const keys = body !== null && typeof body === 'object' ? Object.keys(body) : [];
  if (keys.length !== 1 || keys[0] !== 'error') return `status ${status} with body ${text.slice(0, 200)}`;
  const error = (body as { error: { code?: ErrorCode } }).error;
  const problem = envelopeProblem(error);
  if (problem) return `status ${status}: ${problem}`;
  return ERROR_STATUS[error.code!] === status ? undefined : `status ${status} for code ${error.code}`;
}

/** An ack: `{ ok: true, ... }` or `{ ok: false, error }` with the envelope. */
export function ackProblem(ack: unknown): string | undefined {
  if (ack === null || typeof ack !== 'object') return `ack is not an object: ${JSON.stringify(ack)}`;
  const { ok, error } = ack as { ok?: unknown; error?: unknown };
  if (ok === true) return undefined;
  if (ok !== false) return `ack without ok: ${JSON.stringify(ack).slice(0, 200)}`;
  if (Object.keys(ack).length !== 2) return `ack with extra keys: ${Object.keys(ack).join(', ')}`;
  return envelopeProblem(error);
}

/**
 * The first of `fields` that holds an object or an array in a parsed payload: a scalar field must
 * never accept one (no ORM operators, no arrays slipping through per-item checks).
 */
export function structuredField(payload: unknown, fields: readonly string[]): string | undefined {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  return fields.find((field) => {
    const value = Object.hasOwn(payload, field) ? (payload as Record<string, unknown>)[field] : undefined;
    return value !== null && typeof value === 'object';
  });
}

/** heapUsed after a full collection (gc exposed at run time, so the test command needs no flag). */
export function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Records unhandled rejections while a fuzz file runs (register in beforeAll: Jest swaps listeners at start). */
export function watchUnhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  beforeAll(() => {
    process.on('unhandledRejection', listener);
  });
  afterAll(() => {
    process.off('unhandledRejection', listener);
  });
  return seen;
}

/**
 * A logger that keeps the error lines the server writes while the fuzzers run: failures nobody
 * answers for (a broadcast, a presence update) show up only there.
 */
export function errorRecordingLogger(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const sink = new Writable({
    objectMode: true,
    write(entry: { message?: unknown }, _encoding, done) {
      errors.push(JSON.stringify(entry).slice(0, 500));
      done();
    },
  });
  const logger = winston.createLogger({ level: 'error', transports: [new winston.transports.Stream({ stream: sink })] });
  return { logger, errors };
}
