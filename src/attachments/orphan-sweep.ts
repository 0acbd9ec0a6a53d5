import type { Logger } from '../shared/logger';
import { startPeriodic } from '../shared/periodic';
import type { AttachmentService } from './attachment.service';

export const DEFAULT_ORPHAN_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** Removes uploads never sent, a few times per TTL (at most hourly). Returns a stop function; none when off. */
export function startOrphanSweep(service: AttachmentService, ttlMs: number, logger: Logger): (() => void) | undefined {
  if (ttlMs <= 0) return undefined;
  const interval = Math.min(Math.max(ttlMs / 4, 1000), MAX_SWEEP_INTERVAL_MS);
  return startPeriodic('unsent upload sweep', interval, () => service.removeOrphans(ttlMs), logger);
}
