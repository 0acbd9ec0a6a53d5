/**
 * Waiting in tests. Wait for what can be observed: an event (nextEvent in sockets.ts) or a state
 * (eventually). A fixed wait is for two things only: proving that something does NOT happen
 * (letStrayEventsArrive in sockets.ts), and letting time pass that the code under test measures
 * (a grace period, a token's expiry, a later timestamp): letTimePass, with the reason at the call.
 */

/** Resolves with `check`'s first truthy result, polled every 10 ms; rejects after `timeoutMs`, naming `what`. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await letTimePass(10);
  }
}

/** Lets `ms` of wall-clock time pass, for timers and clocks under test; never to wait for an event. */
export function letTimePass(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Time passes between writes whose order a test checks: their JSON times have millisecond resolution. */
export function aLaterMillisecond(ms = 5): Promise<void> {
  return letTimePass(ms);
}
