import { otherParticipant } from '../conversations/conversation.record';
import type { ConversationService } from '../conversations/conversation.service';
import { hasHeldMessage } from '../conversations/conversation-visibility';
import type { TypingTracker } from './typing-tracker';

export interface TypingServiceDeps {
  conversations: ConversationService;
  tracker: TypingTracker;
}

/**
 * Conversations a user was found to be heard typing in, with who hears it: saves a query per
 * typing event. Both facts never change once true. The transport keeps one per socket (so it goes
 * with the socket); only this service reads and fills it.
 */
export type TypingMemo = Map<number, number>;

/**
 * `typing` and `stop_typing`: who may type where, and who hears of it. A user who does not see the
 * conversation gets NOT_FOUND. The other participant hears of it only once the conversation has
 * held a message: typing tells that the typist is online, which only presence partners may learn.
 */
export class TypingService {
  constructor(private readonly deps: TypingServiceDeps) {}

  async start(userId: number, conversationId: number, socketId: string, memo?: TypingMemo): Promise<void> {
    const listener = await this.listener(userId, conversationId, memo);
    if (listener !== undefined) this.deps.tracker.start(conversationId, userId, listener, socketId);
  }

  async stop(userId: number, conversationId: number, memo?: TypingMemo): Promise<void> {
    await this.listener(userId, conversationId, memo);
    this.deps.tracker.stop(conversationId, userId);
  }

  /** The socket went away: whatever it was typing stops. */
  socketGone(socketId: string): void {
    this.deps.tracker.socketGone(socketId);
  }

  /** Who hears the user type in the conversation (undefined: nobody yet); NOT_FOUND if they do not see it. */
  private async listener(userId: number, conversationId: number, memo?: TypingMemo): Promise<number | undefined> {
    const known = memo?.get(conversationId);
    if (known !== undefined) return known;
    const conversation = await this.deps.conversations.requireParticipant(userId, conversationId);
    if (!hasHeldMessage(conversation)) return undefined;
    const listener = otherParticipant(conversation, userId);
    memo?.set(conversationId, listener);
    return listener;
  }
}
