import { BoundedMap } from './bounded-map';
import type { Logger } from './logger';

const WINDOW_MS = 10_000;
const MAX_KINDS = 1000;

/**
 * Logs failures without flooding the log: while the database is away every request fails the same
 * way. The first failure of a kind is logged whole (with its stack); repeats within the next
 * `windowMs` are only counted, and the count is logged once when that window ends.
 */
export class ErrorLog {
  private readonly kinds = new BoundedMap<string, { repeats: number }>(MAX_KINDS);

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = WINDOW_MS,
  ) {}

  error(message: string, err: unknown, fields: Record<string, unknown> = {}): void {
    const kind = `${message}\n${summary(err)}`;
    const seen = this.kinds.get(kind);
    if (seen) {
      seen.repeats++;
      return;
    }
    const entry = { repeats: 0 };
    this.kinds.set(kind, entry);
    this.logger.error(message, { ...fields, err: err instanceof Error ? err.stack : String(err) });
    const timer = setTimeout(() => {
      if (this.kinds.get(kind) === entry) this.kinds.delete(kind);
      if (entry.repeats) this.logger.error(message, { repeats: entry.repeats, withinMs: this.windowMs, err: summary(err) });
    }, this.windowMs);
    timer.unref();
  }
}

/** A kind of failure: the error's name, code and the first line of its message. */
function summary(err: unknown): string {
  if (!(err instanceof Error)) return String(err).split('\n', 1)[0]!;
  const code = (err as { code?: unknown }).code;
  return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message.split('\n', 1)[0]}`;
}

const logs = new WeakMap<Logger, ErrorLog>();

/** The logger's ErrorLog, shared by everything that logs through it (REST, sockets, presence). */
export function errorLog(logger: Logger): ErrorLog {
  let log = logs.get(logger);
  if (!log) {
    log = new ErrorLog(logger);
    logs.set(logger, log);
  }
  return log;
}
