interface Lane {
  running: number;
  waiting: (() => void)[];
}

/**
 * At most `width` operations of one user run at once; the rest wait their turn, in order. A user
 * flooding requests or events then holds at most `width` of the database pool's connections, and
 * everyone else's requests find one free (docs/api.md, "Fair use").
 */
export class UserLanes {
  private readonly lanes = new Map<number, Lane>();

  constructor(readonly width: number) {}

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
    return new Promise((resolve) => lane.waiting.push(resolve));
  }

  /** One operation of the user ended: the next waiting one starts. */
  leave(userId: number): void {
    const lane = this.lanes.get(userId);
    if (!lane) return;
    const next = lane.waiting.shift();
    if (next) next();
    else if (--lane.running === 0) this.lanes.delete(userId);
  }

  async run<T>(userId: number, work: () => Promise<T>): Promise<T> {
    await this.enter(userId);
    try {
      return await work();
    } finally {
      this.leave(userId);
    }
  }
}
