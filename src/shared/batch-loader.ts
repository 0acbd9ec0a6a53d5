/**
 * Loads keys in batches: every key asked for during one turn of the event loop goes to the
 * database in one call, when the turn ends (setImmediate): on a small machine the write that wakes
 * the database costs more than the query (docs/performance.md, "Connecting").
 *
 * A key already on its way (in the batch being gathered or in one sent) shares that load. A
 * failed load fails every key of its batch; the next ask tries again.
 */
export class BatchLoader<K, V> {
  private gathering = new Map<K, Waiter<V>>();
  private readonly inFlight = new Map<K, Promise<V | undefined>>();
  private flushScheduled = false;

  constructor(
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 500,
  ) {}

  /** The key's value, or undefined if the load found none. */
  load(key: K): Promise<V | undefined> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    let resolve!: (value: V | undefined) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<V | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.gathering.set(key, { resolve, reject });
    this.inFlight.set(key, promise);
    if (this.gathering.size >= this.maxBatch) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return promise;
  }

  private flush(): void {
    const batch = this.gathering;
    if (!batch.size) return;
    this.gathering = new Map();
    const settle = () => {
      for (const key of batch.keys()) this.inFlight.delete(key);
    };
    this.loadMany([...batch.keys()]).then(
      (found) => {
        settle();
        for (const [key, waiter] of batch) waiter.resolve(found.get(key));
      },
      (err: unknown) => {
        settle();
        for (const waiter of batch.values()) waiter.reject(err);
      },
    );
  }
}

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(err: unknown): void;
}
