import { BatchLoader } from '../shared/batch-loader';
import type { Arrival, PresenceRepository } from './presence.repository';
import type { PresenceStore } from './presence-store';

export interface PresenceJson {
  userId: number;
  online: boolean;
  /** When the user last went offline; null if never. */
  lastSeenAt: string | null;
}

export interface PresenceServiceDeps {
  store: PresenceStore;
  repository: PresenceRepository;
  /** Delivers a presence change to these users. */
  publish(userIds: number[], event: PresenceJson): void;
  /** How long after the last socket leaves the user is announced offline. */
  graceMs: number;
  /** A presence write that failed in the background (the database away): reported, never thrown. */
  onError(err: unknown): void;
}

/** Online state and lastSeenAt; the rules live in presence-rules.ts, this class only does I/O. */
export class PresenceService {
  private readonly leaving = new Map<number, { at: Date; timer: NodeJS.Timeout }>();
  private closed = false;
  /** The users who come online in one turn of the event loop are looked up together. */
  private readonly arrivals: BatchLoader<number, Arrival>;

  constructor(private readonly deps: PresenceServiceDeps) {
    this.arrivals = new BatchLoader((userIds) => deps.repository.arrivals(userIds));
  }

  async connected(userId: number, socketId: string): Promise<void> {
    const pending = this.leaving.get(userId);
    if (pending) {
      clearTimeout(pending.timer);
      this.leaving.delete(userId);
    }
    if ((await this.deps.store.connected(userId, socketId)) !== 'announce-online') return;
    await this.announceArrival(userId);
  }

  private async announceArrival(userId: number): Promise<void> {
    const arrival = await this.arrivals.load(userId);
    if (arrival) this.announce(arrival.partners, { userId, online: true, lastSeenAt: arrival.lastSeen?.toISOString() ?? null });
  }

  async disconnected(userId: number, socketId: string): Promise<void> {
    // After close() no timer is armed: on several nodes the others settle who is left (the sweep).
    if ((await this.deps.store.disconnected(userId, socketId)) !== 'start-grace' || this.closed) return;
    const at = new Date();
    const timer = setTimeout(() => this.graceOver(userId, at).catch(this.deps.onError), this.deps.graceMs);
    timer.unref();
    this.leaving.set(userId, { at, timer });
  }

  /**
   * `get_online_status`: the presence of the viewer's partners (and their own); anyone else, known
   * or not, looks offline and never seen, so the answer tells a stranger nothing.
   */
  async statuses(viewerId: number, userIds: readonly number[]): Promise<PresenceJson[]> {
    const [online, visible] = await Promise.all([this.deps.store.online(userIds), this.deps.repository.visibleLastSeen(viewerId, userIds)]);
    return userIds.map((userId) => {
      const lastSeen = visible.get(userId);
      if (lastSeen === undefined) return { userId, online: false, lastSeenAt: null };
      return { userId, online: online.has(userId), lastSeenAt: lastSeen?.toISOString() ?? null };
    });
  }

  /**
   * Announces the users another node left in their grace period, or that died holding their
   * sockets (several nodes only). Returns how many.
   */
  async sweep(): Promise<number> {
    const swept = (await this.deps.store.sweep?.()) ?? [];
    // The store has let them go already: each one is announced, whatever happens to the others.
    const outcomes = await Promise.allSettled(swept.map(({ userId, at }) => this.departed(userId, at)));
    for (const outcome of outcomes) if (outcome.status === 'rejected') this.deps.onError(outcome.reason);
    return swept.length;
  }

  /** The shared store is back after an outage: it learns this node's sockets, and whoever that brings online is announced. */
  async rejoined(): Promise<void> {
    const arrived = (await this.deps.store.resync?.()) ?? [];
    await Promise.all(arrived.map((userId) => this.announceArrival(userId)));
  }

  /** Records everyone still leaving as gone now (on shutdown), so lastSeenAt is not lost. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.leaving.entries()];
    this.leaving.clear();
    for (const [, { timer }] of pending) clearTimeout(timer);
    // One statement for everyone: a restart right after a disconnect storm has thousands leaving.
    await this.deps.repository.saveLastSeenMany(pending.map(([userId, { at }]) => ({ userId, at })));
  }

  private async graceOver(userId: number, at: Date): Promise<void> {
    if (this.leaving.get(userId)?.at !== at) return;
    this.leaving.delete(userId);
    if ((await this.deps.store.graceExpired(userId)) !== 'announce-offline') return;
    await this.departed(userId, at);
  }

  private async departed(userId: number, at: Date): Promise<void> {
    const partners = await this.deps.repository.departure(userId, at);
    this.announce(partners, { userId, online: false, lastSeenAt: at.toISOString() });
  }

  private announce(partners: number[], event: PresenceJson): void {
    if (partners.length) this.deps.publish(partners, event);
  }
}
