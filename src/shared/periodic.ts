import { errorLog } from './error-log';
import type { Logger } from './logger';

/**
 * Runs a maintenance task every `intervalMs`, never two at once, and logs what it did or why it
 * failed (once per kind of failure, so an outage does not flood the log). The timer does not keep the process alive. Returns a function that stops it.
 */
export function startPeriodic(name: string, intervalMs: number, task: () => Promise<number>, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .then((count) => count && logger.info(`${name} done`, { count }))
      .catch((err: unknown) => errorLog(logger).error(`${name} failed`, err))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
