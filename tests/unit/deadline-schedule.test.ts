import { type Clock, DeadlineSchedule, MAX_TIMER_DELAY_MS } from '../../src/shared/deadline-schedule';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A clock that moves only when told, with one-shot timers that behave like Node's: a delay above
 * the 32-bit limit fires after 1 ms (the overflow the schedule must avoid).
 */
class ManualClock implements Clock {
  time = 1_700_000_000_000;
  readonly delays: number[] = [];
  private timers = new Map<number, { at: number; fire: () => void }>();
  private nextHandle = 1;

  now(): number {
    return this.time;
  }

  setTimer(fire: () => void, delayMs: number): unknown {
    this.delays.push(delayMs);
    const effective = delayMs >= 1 && delayMs <= MAX_TIMER_DELAY_MS ? delayMs : 1;
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + effective, fire });
    return handle;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward to `until`, firing each timer at its moment, in order. */
  advanceTo(until: number): void {
    // A schedule that re-arms an overflowed timer over and over would spin here: fail instead.
    for (let fired = 0; ; fired++) {
      if (fired > 1000) throw new Error('timer storm: over 1000 timers fired in one advance');
      const due = [...this.timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fire();
    }
    this.time = until;
  }

  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }
}

function setup() {
  const clock = new ManualClock();
  const fired: { item: string; at: number }[] = [];
  const schedule = new DeadlineSchedule<string>((item) => fired.push({ item, at: clock.now() }), clock);
  return { clock, fired, schedule };
}

describe('deadline schedule', () => {
  test('an item fires at its deadline, not a millisecond before', () => {
    const { clock, fired, schedule } = setup();
    const deadline = clock.now() + 2000;
    schedule.add('a', deadline);
    clock.advanceTo(deadline - 1);
    expect(fired).toEqual([]);
    clock.advanceTo(deadline);
    expect(fired).toEqual([{ item: 'a', at: deadline }]);
    expect(clock.pendingTimers).toBe(0);
  });

  test('a deadline 40 days ahead is reached in steps that Node can time, and does not fire early', () => {
    const { clock, fired, schedule } = setup();
    const deadline = clock.now() + 40 * DAY_MS;
    schedule.add('far', deadline);
    clock.advanceTo(deadline - 1);
    expect(fired).toEqual([]);
    clock.advanceTo(deadline);
    expect(fired).toEqual([{ item: 'far', at: deadline }]);
    // Every timer asked for fits Node's limit, and more than one was needed to get there.
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(clock.delays.length).toBeGreaterThan(1);
  });

  test('items fire in deadline order, those sharing a deadline together, on one timer', () => {
    const { clock, fired, schedule } = setup();
    const t0 = clock.now();
    schedule.add('late', t0 + 5000);
    schedule.add('first', t0 + 1000);
    schedule.add('second', t0 + 3000);
    schedule.add('second too', t0 + 3000);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(10_000);
    expect(fired).toEqual([
      { item: 'first', at: t0 + 1000 },
      { item: 'second', at: t0 + 3000 },
      { item: 'second too', at: t0 + 3000 },
      { item: 'late', at: t0 + 5000 },
    ]);
  });

  test('an earlier deadline added after a far one is not held back by it', () => {
    const { clock, fired, schedule } = setup();
    const t0 = clock.now();
    schedule.add('far', t0 + 30 * DAY_MS);
    schedule.add('soon', t0 + 500);
    clock.advance(500);
    expect(fired).toEqual([{ item: 'soon', at: t0 + 500 }]);
  });

  test('a removed item never fires, and the others still do', () => {
    const { clock, fired, schedule } = setup();
    const t0 = clock.now();
    schedule.add('gone', t0 + 1000);
    schedule.add('stays', t0 + 1000);
    schedule.add('gone later', t0 + 2000);
    schedule.remove('gone', t0 + 1000);
    schedule.remove('never added', t0 + 2000);
    expect(schedule.size).toBe(2);
    schedule.remove('gone later', t0 + 2000);
    clock.advance(3000);
    expect(fired.map((f) => f.item)).toEqual(['stays']);
    expect(schedule.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  test('a deadline already passed fires on the next timer turn', () => {
    const { clock, fired, schedule } = setup();
    schedule.add('late', clock.now() - 5000);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired.map((f) => f.item)).toEqual(['late']);
  });

  test('an item removed from inside onDue (a socket leaving as it is ended) does not disturb the rest', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const t0 = clock.now();
    const schedule: DeadlineSchedule<string> = new DeadlineSchedule((item) => {
      fired.push(item);
      schedule.remove(item, t0 + 1000);
    }, clock);
    for (const item of ['a', 'b', 'c']) schedule.add(item, t0 + 1000);
    schedule.add('d', t0 + 2000);
    clock.advance(2000);
    expect(fired).toEqual(['a', 'b', 'c', 'd']);
  });

  test('many sockets coming and going leave no garbage behind', () => {
    const { clock, fired, schedule } = setup();
    const t0 = clock.now();
    for (let i = 0; i < 10_000; i++) {
      schedule.add(`s${i}`, t0 + 60_000 + i * 1000);
      schedule.remove(`s${i}`, t0 + 60_000 + i * 1000);
    }
    schedule.add('kept', t0 + 90_000);
    expect(schedule.size).toBe(1);
    expect((schedule as unknown as { heap: number[] }).heap.length).toBeLessThan(100);
    clock.advance(20_000 * 1000);
    expect(fired.map((f) => f.item)).toEqual(['kept']);
  });

  test('close stops the timer and forgets every item', () => {
    const { clock, fired, schedule } = setup();
    schedule.add('a', clock.now() + 1000);
    schedule.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    expect(fired).toEqual([]);
  });
});
