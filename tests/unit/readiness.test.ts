import { DependencyProbe, readinessHttpStatus, readinessOf } from '../../src/ops/readiness';
import { capturingLogger } from '../helpers/log-capture';

/** A dependency whose checks the test answers by hand, counting how many were started. */
function controlledDependency() {
  const pending: { resolve(): void; reject(err: Error): void }[] = [];
  return {
    started: () => pending.length,
    check: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    answerUp: () => pending.at(-1)!.resolve(),
    answerDown: () => pending.at(-1)!.reject(new Error('connect ECONNREFUSED')),
  };
}

describe('readiness', () => {
  test('the database decides availability, Redis only degrades, no Redis is off', () => {
    expect(readinessOf('up', 'off')).toEqual({ status: 'ready', database: 'up', redis: 'off' });
    expect(readinessOf('up', 'up')).toEqual({ status: 'ready', database: 'up', redis: 'up' });
    expect(readinessOf('up', 'down')).toEqual({ status: 'degraded', database: 'up', redis: 'down' });
    expect(readinessOf('down', 'up')).toEqual({ status: 'unavailable', database: 'down', redis: 'up' });
    expect(readinessOf('down', 'off').status).toBe('unavailable');
    expect([readinessOf('up', 'off'), readinessOf('up', 'down'), readinessOf('down', 'off')].map(readinessHttpStatus)).toEqual([200, 200, 503]);
  });

  test('probes that come while a check runs share it, and one that hangs answers down at the timeout', async () => {
    const dependency = controlledDependency();
    const { logger } = capturingLogger();
    const probe = new DependencyProbe('database', dependency.check, { timeoutMs: 50, reuseMs: 0, logger });
    const answers = await Promise.all(Array.from({ length: 20 }, () => probe.state()));
    expect(answers).toEqual(Array(20).fill('down'));
    expect(dependency.started()).toBe(1);
    // The hung check still runs: a new probe joins it rather than starting another.
    expect(await probe.state()).toBe('down');
    expect(dependency.started()).toBe(1);
    dependency.answerUp();
    await new Promise((resolve) => setImmediate(resolve));
    const next = probe.state();
    dependency.answerUp();
    expect(await next).toBe('up');
    expect(dependency.started()).toBe(2);
  });

  test('an answer is reused for reuseMs, and each change is logged once', async () => {
    const dependency = controlledDependency();
    const { logger, entries } = capturingLogger();
    const probe = new DependencyProbe('database', dependency.check, { timeoutMs: 1000, reuseMs: 60_000, logger });
    const first = probe.state();
    dependency.answerDown();
    expect(await first).toBe('down');
    expect(await probe.state()).toBe('down');
    expect(dependency.started()).toBe(1);
    expect(entries.map((e) => [e.level, e.message])).toEqual([['warn', 'database unreachable']]);

    const fresh = new DependencyProbe('database', dependency.check, { timeoutMs: 1000, reuseMs: 0, logger });
    const states: string[] = [];
    for (const answer of ['down', 'down', 'up', 'up'] as const) {
      const state = fresh.state();
      if (answer === 'up') dependency.answerUp();
      else dependency.answerDown();
      states.push(await state);
    }
    expect(states).toEqual(['down', 'down', 'up', 'up']);
    expect(entries.map((e) => e.message)).toEqual(['database unreachable', 'database unreachable', 'database reachable again']);
  });
});
