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
  /** The longest an operation waits for its lane: the database timeout. */
  laneWaitMs: number;
}

/** Answers "is there a conversation between these two users" (cached for pairs that have one). */
export interface PairDirectory {
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
    const classes = await this.classesOf(userId, rule, payload);
    const wait = await this.store.take(classes.map((rateClass) => this.spec(rateClass, userId)));
    if (wait > 0) throw rateLimited(classes, wait);
  }

  private async classesOf(userId: number, rule: DoorRule, payload: unknown): Promise<RateClass[]> {
    if (rule === 'send_message') {
      // An empty send bucket refuses whatever the partner: no lookup for a flood.
      const wait = await this.store.wait([this.spec('send', userId)]);
      if (wait > 0) throw rateLimited(['send'], wait);
      const receiverId = field(payload, 'receiverId');
      if (receiverId === undefined || receiverId === userId) return ['send'];
      return (await this.pairExists(userId, receiverId)) ? ['send'] : ['send', 'conversation'];
    }
    if (rule === 'open_conversation') {
      const participantId = field(payload, 'participantId');
      // A malformed or unknown id costs a conversation token, like a new partner.
      if (participantId === undefined || participantId === userId) return ['conversation'];
      if (await this.store.wait([this.spec('conversation', userId)])) {
        // Only an existing pair (read class) can still pass: look it up only if read has tokens.
        if (await this.store.wait([this.spec('read', userId)])) return ['conversation'];
      }
      return (await this.pairExists(userId, participantId)) ? ['read'] : ['conversation'];
    }
    return [rule];
  }

  /** The one lookup a refused call may cost; in the user's lane, so a flood of them holds one connection. */
  private pairExists(userId: number, otherId: number): Promise<boolean> {
    return this.lanes.run(userId, () => this.pairs.pairExists(userId, otherId));
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
