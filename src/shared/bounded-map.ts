/** A Map that forgets its oldest entry once it holds `capacity` entries: a cache with a memory ceiling. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

/** A BoundedMap whose entries also lapse at a time given with each: the caches of verified tokens and users. */
export class ExpiringCache<K, V> {
  private readonly entries: BoundedMap<K, { value: V; until: number }>;

  constructor(capacity: number) {
    this.entries = new BoundedMap(capacity);
  }

  /** The value, unless it has lapsed (then it is dropped). */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Remembers `value` until the epoch millisecond `until`. */
  set(key: K, value: V, until: number): void {
    this.entries.set(key, { value, until });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
