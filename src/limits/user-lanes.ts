import { AppError, toAppError } from '../shared/errors';

/** What a refusal for a long backlog suggests: about how long one slow operation takes. */
const LANE_RETRY_MS = 1000;

interface Waiter {
  resolve: () => void;
  reject: (err: AppError) => void;
  timer: NodeJS.Timeout;
}

interface Lane {
  running: number;
  waiting: Waiter[];
}

/**
 * At most `width` operations of one user run at once; the rest wait their turn, in order. A user
 * flooding requests or events then holds at most `width` operations' database connections, and
 * everyone else's requests find one free (docs/api.md, "Fair use").
 *
 * A wait is bounded by the database timeout (past it, RATE_LIMITED: the user's own backlog), and
 * when an operation ends because the database is away, the operations waiting behind it are
 * answered UNAVAILABLE at once rather than each waiting out its own timeout in turn (API.md:
 * UNAVAILABLE within DATABASE_TIMEOUT_MS).
 */
export class UserLanes {
  private readonly lanes = new Map<number, Lane>();

  constructor(
    readonly width: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Resolves once the user may run one more operation; undefined when that is already so. */
  enter(userId: number): Promise<void> | undefined {
    const lane = this.lanes.get(userId);
    if (!lane) {
      this.lanes.set(userId, { running: 1, waiting: [] });
      return undefined;
    }
    if (lane.running < this.width) {
      lane.running++;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(waiter.timer);
          reject(err);
        },
        timer: setTimeout(() => {
          lane.waiting.splice(lane.waiting.indexOf(waiter), 1);
          // The user's own backlog is the reason: a fair-use refusal, not an outage.
          reject(new AppError('RATE_LIMITED', 'Too many requests of yours are waiting; slow down', undefined, LANE_RETRY_MS));
        }, this.maxWaitMs),
      };
      lane.waiting.push(waiter);
    });
  }

  /**
   * One operation of the user ended: the next waiting one starts. `databaseAway`: it failed
   * because the database did not answer, and so would everything waiting behind it.
   */
  leave(userId: number, databaseAway = false): void {
    const lane = this.lanes.get(userId);
    if (!lane) return;
    if (databaseAway) {
      for (const waiter of lane.waiting.splice(0)) waiter.reject(new AppError('UNAVAILABLE', 'The database is unavailable; try again'));
    }
    const next = lane.waiting.shift();
    if (next) next.resolve();
    else if (--lane.running === 0) this.lanes.delete(userId);
  }

  async run<T>(userId: number, work: () => Promise<T>): Promise<T> {
    await this.enter(userId);
    let databaseAway = false;
    try {
      return await work();
    } catch (err) {
      databaseAway = isDatabaseAway(err);
      throw err;
    } finally {
      this.leave(userId, databaseAway);
    }
  }
}

/** Whether a failure means the database did not answer (UNAVAILABLE, by the one error mapping). */
export function isDatabaseAway(err: unknown): boolean {
  return toAppError(err).code === 'UNAVAILABLE';
}
