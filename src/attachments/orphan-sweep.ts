import type { Logger } from '../shared/logger';
import type { AttachmentService } from './attachment.service';

export const DEFAULT_ORPHAN_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** Removes uploads never sent, a few times per TTL (at most hourly). Returns the timer, or undefined when off. */
export function startOrphanSweep(service: AttachmentService, ttlMs: number, logger: Logger): NodeJS.Timeout | undefined {
  if (ttlMs <= 0) return undefined;
  const timer = setInterval(() => {
    service
      .removeOrphans(ttlMs)
      .then((removed) => removed && logger.info('removed unsent uploads', { removed }))
      .catch((err: unknown) => logger.error('orphan sweep failed', { err: String(err) }));
  }, Math.min(Math.max(ttlMs / 4, 1000), MAX_SWEEP_INTERVAL_MS));
  timer.unref();
  return timer;
}
