import type { Principal } from '../auth/token-verifier';
import { AppError } from '../shared/errors';
import { parseUserId } from '../shared/ids';
import { RATE_CLASSES, type RateClass, type RateLimits } from './rate-classes';
import type { BucketSpec, TokenBucketStore } from './token-bucket-store';
import { UserLanes } from './user-lanes';

/**
 * What a door charges: a class, or one of the two calls whose class depends on whether the caller
 * already has a conversation with the other user (API.md, "Clarifications of the second part").
 */
export type DoorRule = RateClass | 'send_message' | 'open_conversation';

export interface FairUseOptions {
  rates: RateLimits;
  /** RATE_LIMIT_EXEMPT_USERS: the host's system or support accounts. */
  exemptUserIds: ReadonlySet<number>;
  /** How many operations of one user run at once (see UserLanes); Duet uses 1. */
  userConcurrency: number;
  /** The longest an operation waits for its lane (a little over the database timeout). */
  laneWaitMs: number;
}

/** Runs a piece of a call in its user's lane: FairUse.inLane, handed to code that must not see FairUse. */
export type InLane = <T>(principal: Principal, work: () => Promise<T>) => Promise<T>;

/** Answers "is there a conversation between these two users" (cached for pairs that have one). */
export interface PairDirectory {
  /** true when the pair is known to have a conversation without asking the database. */
  knownPair(a: number, b: number): boolean;
  pairExists(a: number, b: number): Promise<boolean>;
}

/**
 * The fair-use rule of both doors: one token bucket per user and class, taken after
 * authentication and before validation or any database work; admins and exempt users are not
 * limited. REST middleware and the socket dispatcher call admit() and nothing else decides.
 */
export class FairUse {
  readonly lanes: UserLanes;
  private readonly specs = new Map<RateClass, (userId: number) => BucketSpec>();

  constructor(
    private readonly store: TokenBucketStore,
    private readonly pairs: PairDirectory,
    private readonly options: FairUseOptions,
  ) {
    this.lanes = new UserLanes(options.userConcurrency, options.laneWaitMs);
    for (const rateClass of RATE_CLASSES) {
      const { burst, perSecond } = options.rates[rateClass];
      this.specs.set(rateClass, (userId) => ({ key: `${rateClass}:${userId}`, burst, perSecond }));
    }
  }

  isExempt(principal: Principal): boolean {
    return principal.isAdmin || this.options.exemptUserIds.has(principal.userId);
  }

  /** Takes the call's tokens or throws RATE_LIMITED with the wait until it would be let through. */
  async admit(principal: Principal, rule: DoorRule, payload: unknown): Promise<void> {
    if (this.isExempt(principal)) return;
    const { userId } = principal;
    if (rule === 'send_message') return this.admitSend(userId, field(payload, 'receiverId'));
    if (rule === 'open_conversation') return this.admitOpen(userId, field(payload, 'participantId'));
    await this.take(userId, [rule]);
  }

  /** Runs an admitted operation in its user's lane; exempt users and admins have none (not limited). */
  async inLane<T>(principal: Principal, work: () => Promise<T>): Promise<T> {
    return this.isExempt(principal) ? work() : this.lanes.run(principal.userId, work);
  }

  /** A send: `send`, plus `conversation` when it is the first to this partner (all or none). */
  private async admitSend(userId: number, receiverId: number | undefined): Promise<void> {
    if (receiverId === undefined || receiverId === userId || this.pairs.knownPair(userId, receiverId)) {
      return this.take(userId, ['send']);
    }
    // Whether this is a first contact needs a lookup; an empty send bucket refuses without one.
    const sendWait = await this.store.wait([this.spec('send', userId)]);
    if (sendWait > 0) {
      const conversationWait = await this.store.wait([this.spec('conversation', userId)]);
      throw rateLimited(conversationWait > 0 ? ['send', 'conversation'] : ['send'], Math.max(sendWait, conversationWait));
    }
    await this.take(userId, (await this.lookUp(userId, receiverId)) ? ['send'] : ['send', 'conversation'], true);
  }

  /** POST /conversations: a read for a pair that has a conversation, else a conversation token. */
  private async admitOpen(userId: number, participantId: number | undefined): Promise<void> {
    // A malformed or unknown id costs a conversation token, like a new partner.
    if (participantId === undefined || participantId === userId) return this.take(userId, ['conversation']);
    if (this.pairs.knownPair(userId, participantId)) return this.take(userId, ['read']);
    await this.take(userId, (await this.lookUp(userId, participantId)) ? ['read'] : ['conversation'], true);
  }

  /**
   * The one lookup a call may cost before its tokens are known (API.md's clarification). It needs
   * a read token to be there and takes it when the call is then refused, so that a flood of first
   * contacts to ever new ids is bounded by the read bucket; it runs in the user's lane, so such a
   * flood holds one connection at most.
   */
  private async lookUp(userId: number, otherId: number): Promise<boolean> {
    const readWait = await this.store.wait([this.spec('read', userId)]);
    if (readWait > 0) throw rateLimited(['read'], readWait);
    return this.lanes.run(userId, () => this.pairs.pairExists(userId, otherId));
  }

  private async take(userId: number, classes: RateClass[], lookedUp = false): Promise<void> {
    const wait = await this.store.take(classes.map((rateClass) => this.spec(rateClass, userId)));
    if (wait === 0) return;
    // A refused call whose class needed a lookup pays for that read.
    if (lookedUp) await this.store.take([this.spec('read', userId)]);
    throw rateLimited(classes, wait);
  }

  private spec(rateClass: RateClass, userId: number): BucketSpec {
    return this.specs.get(rateClass)!(userId);
  }
}

function field(payload: unknown, name: string): number | undefined {
  return typeof payload === 'object' && payload !== null ? parseUserId((payload as Record<string, unknown>)[name]) : undefined;
}

function rateLimited(classes: readonly RateClass[], retryAfterMs: number): AppError {
  return new AppError('RATE_LIMITED', `Too many requests (${classes.join(' and ')}); slow down`, undefined, retryAfterMs);
}
