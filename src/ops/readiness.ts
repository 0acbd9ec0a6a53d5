import type { Logger } from '../shared/logger';

export type DependencyState = 'up' | 'down';

/** What `GET /ready` answers (API.md, "Operations"). Redis is 'off' when none is configured (one node). */
export interface Readiness {
  status: 'ready' | 'degraded' | 'unavailable';
  database: DependencyState;
  redis: DependencyState | 'off';
}

/** Without the database nothing works; without Redis a node still serves its own clients. */
export function readinessOf(database: DependencyState, redis: DependencyState | 'off'): Readiness {
  const status = database === 'down' ? 'unavailable' : redis === 'down' ? 'degraded' : 'ready';
  return { status, database, redis };
}

/** 503 takes the node out of a load balancer: only when it cannot serve at all. */
export const readinessHttpStatus = (readiness: Readiness): number => (readiness.status === 'unavailable' ? 503 : 200);

export interface ProbeOptions {
  /** Every caller has its answer within this; a check still running then counts as 'down'. */
  timeoutMs: number;
  /** A finished check's answer is reused this long. */
  reuseMs: number;
  logger: Logger;
}

/**
 * Whether one dependency answers. At most one check runs at a time (callers meanwhile share it) and
 * its answer is reused for a moment, so probes arriving every few milliseconds, or against a
 * database that hangs, never pile up. Changes are logged once each, not on every probe.
 */
export class DependencyProbe {
  private running?: Promise<boolean>;
  private last?: { up: boolean; at: number };

  constructor(
    private readonly name: string,
    private readonly check: () => Promise<void>,
    private readonly options: ProbeOptions,
  ) {}

  async state(): Promise<DependencyState> {
    if (this.last && Date.now() - this.last.at < this.options.reuseMs) return this.last.up ? 'up' : 'down';
    this.running ??= this.check().then(
      () => this.settle(true),
      (err: unknown) => this.settle(false, err),
    );
    return (await withinTimeout(this.running, this.options.timeoutMs)) ? 'up' : 'down';
  }

  private settle(up: boolean, err?: unknown): boolean {
    const wasUp = this.last?.up ?? true;
    this.last = { up, at: Date.now() };
    this.running = undefined;
    if (wasUp && !up) this.options.logger.warn(`${this.name} unreachable`, { err: err instanceof Error ? err.message : String(err) });
    if (!wasUp && up) this.options.logger.info(`${this.name} reachable again`);
    return up;
  }
}

/** `check`'s answer, or false if it takes longer than `ms` (the check itself goes on; it is shared). */
function withinTimeout(check: Promise<boolean>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void check.then((up) => {
      clearTimeout(timer);
      resolve(up);
    });
  });
}

/**
 * The node's readiness from its dependencies' probes; without a Redis probe (no REDIS_URL, one
 * node) Redis is reported 'off'.
 */
export class ReadinessCheck {
  constructor(private readonly probes: { database: DependencyProbe; redis?: DependencyProbe }) {}

  async check(): Promise<Readiness> {
    const off: Readiness['redis'] = 'off';
    const [database, redis] = await Promise.all([this.probes.database.state(), this.probes.redis?.state() ?? off]);
    return readinessOf(database, redis);
  }
}
