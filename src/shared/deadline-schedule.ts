/** Node runs a timer asked for more than this (a 32-bit signed delay, about 24.8 days) after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Time and one-shot timers; injected so that the schedule can be tested without waiting. */
export interface Clock {
  now(): number;
  setTimer(fire: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // The schedule never keeps the process alive on its own.
  setTimer: (fire, delayMs) => setTimeout(fire, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Items sharing a deadline; a deadline with one item holds it bare (a Set costs about 200 bytes). */
class Group<T> extends Set<T> {}

/**
 * Items due at an epoch millisecond each, all served by one timer. Items are grouped by deadline
 * (token `exp` values are whole seconds), and a min-heap of deadlines tells the timer when to fire
 * next: an idle item costs a map or set entry, a fraction of a timer and a closure of its own.
 * Waits longer than Node's timer limit are taken in steps.
 */
export class DeadlineSchedule<T> {
  private readonly groups = new Map<number, T | Group<T>>();
  /** Min-heap of deadlines; may hold deadlines whose group was emptied (skipped when reached). */
  private heap: number[] = [];
  private timer: unknown;
  private armedFor = Infinity;

  constructor(
    private readonly onDue: (item: T) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Calls onDue(item) once the clock reaches `deadline` (at once if it already has). */
  add(item: T, deadline: number): void {
    const group = this.groups.get(deadline);
    if (group === undefined) {
      this.groups.set(deadline, item);
      this.push(deadline);
    } else if (group instanceof Group) group.add(item);
    else if (group !== item) this.groups.set(deadline, new Group([group, item]));
    if (deadline < this.armedFor) this.arm();
  }

  /** Forgets an item added with this deadline; nothing happens if it is not (or no longer) there. */
  remove(item: T, deadline: number): void {
    const group = this.groups.get(deadline);
    if (group instanceof Group ? !group.delete(item) || group.size : group !== item) return;
    this.groups.delete(deadline);
    // Emptied groups leave their deadline in the heap; rebuild it before those outnumber the live ones.
    if (this.heap.length > 2 * this.groups.size + 64) this.heap = [...this.groups.keys()].sort((a, b) => a - b);
  }

  /** How many items wait. */
  get size(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group instanceof Group ? group.size : 1;
    return count;
  }

  close(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    this.groups.clear();
    this.heap = [];
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    try {
      while (this.heap.length && this.heap[0]! <= now) {
        const deadline = this.pop();
        const group = this.groups.get(deadline);
        if (group === undefined) continue;
        this.groups.delete(deadline);
        if (!(group instanceof Group)) this.onDue(group);
        else for (const item of group) this.onDue(item);
      }
    } finally {
      // Even if onDue threw, later deadlines keep their timer.
      this.arm();
    }
  }

  /** Points the one timer at the earliest live deadline, capped at Node's limit (it re-arms on waking). */
  private arm(): void {
    while (this.heap.length && !this.groups.has(this.heap[0]!)) this.pop();
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    if (!this.heap.length) return;
    const next = this.heap[0]!;
    const delay = Math.min(Math.max(next - this.clock.now(), 0), MAX_TIMER_DELAY_MS);
    this.armedFor = next;
    this.timer = this.clock.setTimer(() => this.fire(), delay);
  }

  private push(deadline: number): void {
    const heap = this.heap;
    let i = heap.push(deadline) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = deadline;
  }

  private pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const child = left + 1 < heap.length && heap[left + 1]! < heap[left]! ? left + 1 : left;
        if (heap[child]! >= last) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
