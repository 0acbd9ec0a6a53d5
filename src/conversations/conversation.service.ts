import type { MessageRecord } from '../messages/message.record';
import type { MessageRepository } from '../messages/message.repository';
import { notFound } from '../shared/errors';
import type { UserDirectory } from '../users/user.directory';
import { decodeActivityCursor, encodeActivityCursor } from './activity-cursor';
import { type ConversationJson, toConversationJson } from './conversation.presenter';
import { type ConversationRecord, orderedPair, otherParticipant } from './conversation.record';
import { isVisibleTo } from './conversation-visibility';
import { BoundedMap } from '../shared/bounded-map';
import type { ConversationRepository } from './conversation.repository';

export interface ConversationPage {
  conversations: ConversationJson[];
  nextCursor: string | null;
}

export interface UnreadCounts {
  total: number;
  conversations: { conversationId: number; unreadCount: number }[];
}

export interface ConversationServiceDeps {
  conversations: ConversationRepository;
  messages: MessageRepository;
  users: UserDirectory;
}

/** Pair → conversation id never changes once made, so the send path asks the database once per pair. */
const MAX_CACHED_PAIRS = 100_000;

export class ConversationService {
  private readonly pairIds = new BoundedMap<string, number>(MAX_CACHED_PAIRS);

  constructor(private readonly deps: ConversationServiceDeps) {}

  forgetPair(a: number, b: number): void {
    const [p1, p2] = orderedPair(a, b);
    this.pairIds.delete(`${p1}:${p2}`);
  }

  /** The pair's conversation id, creating the conversation (opened by `senderId`) on first use. */
  async idForPair(senderId: number, receiverId: number): Promise<number> {
    const [p1, p2] = orderedPair(senderId, receiverId);
    const key = `${p1}:${p2}`;
    const cached = this.pairIds.get(key);
    if (cached !== undefined) return cached;
    const id =
      (await this.deps.conversations.idForPair(p1, p2)) ?? (await this.deps.conversations.findOrCreate(senderId, receiverId)).conversation.id;
    this.pairIds.set(key, id);
    return id;
  }

  /** true when this process knows the pair has a conversation (no database work). */
  knownPair(a: number, b: number): boolean {
    const [p1, p2] = orderedPair(a, b);
    return this.pairIds.has(`${p1}:${p2}`);
  }

  /** Whether the two users have a conversation (the fair-use class of a first contact depends on it). */
  async pairExists(a: number, b: number): Promise<boolean> {
    const [p1, p2] = orderedPair(a, b);
    const key = `${p1}:${p2}`;
    if (this.knownPair(a, b)) return true;
    const id = await this.deps.conversations.idForPair(p1, p2);
    if (id === undefined) return false;
    this.pairIds.set(key, id);
    return true;
  }

  /**
   * The conversation if the user takes part in it and sees it (conversation-visibility.ts); NOT_FOUND
   * otherwise, so strangers, and the other side of a conversation still empty, learn nothing.
   */
  async requireParticipant(userId: number, conversationId: number): Promise<ConversationRecord> {
    const conversation = await this.deps.conversations.findById(conversationId);
    if (!conversation || !isVisibleTo(conversation, userId)) throw notFound('Conversation not found');
    return conversation;
  }

  /**
   * Gets or creates the one conversation of the pair. The other side of a conversation that is still
   * empty opens it too: it is listed for them from then on.
   */
  async open(userId: number, participantId: number): Promise<{ conversation: ConversationJson; created: boolean }> {
    await this.deps.users.requireOther(userId, participantId, 'participantId', 'open a conversation with');
    const found = await this.deps.conversations.findOrCreate(userId, participantId);
    const conversation = isVisibleTo(found.conversation, userId)
      ? found.conversation
      : ((await this.deps.conversations.markOpened(found.conversation.id, userId)) ?? found.conversation);
    return { conversation: await this.view(userId, conversation), created: found.created };
  }

  async get(userId: number, conversationId: number): Promise<ConversationJson> {
    return this.view(userId, await this.requireParticipant(userId, conversationId));
  }

  async list(userId: number, page: { limit: number; cursor?: string }): Promise<ConversationPage> {
    const after = page.cursor === undefined ? undefined : decodeActivityCursor(page.cursor);
    const rows = await this.deps.conversations.listForUser(userId, page.limit + 1, after);
    const pageRows = rows.slice(0, page.limit).map((row) => row.conversation);
    // The list query brought the last messages along: views() has nothing left to fetch for them.
    const lastMessages = rows.flatMap((row) => (row.lastMessage ? [row.lastMessage] : []));
    const last = pageRows[pageRows.length - 1];
    return {
      conversations: await this.views(userId, pageRows, lastMessages),
      nextCursor: rows.length > page.limit && last ? encodeActivityCursor(last) : null,
    };
  }

  async unreadCounts(userId: number): Promise<UnreadCounts> {
    const conversations = await this.deps.conversations.unreadForUser(userId);
    return { total: conversations.reduce((sum, c) => sum + c.unreadCount, 0), conversations };
  }

  async view(viewerId: number, conversation: ConversationRecord, lastMessage?: MessageRecord): Promise<ConversationJson> {
    return (await this.views(viewerId, [conversation], lastMessage ? [lastMessage] : []))[0]!;
  }

  /** Each participant's view of one conversation, keyed by user id. */
  async viewsForBoth(conversation: ConversationRecord, lastMessage?: MessageRecord): Promise<Record<number, ConversationJson>> {
    const known = lastMessage ? [lastMessage] : [];
    const [first, second] = await Promise.all([
      this.views(conversation.participant1Id, [conversation], known),
      this.views(conversation.participant2Id, [conversation], known),
    ]);
    return { [conversation.participant1Id]: first[0]!, [conversation.participant2Id]: second[0]! };
  }

  /**
   * Conversations as the viewer sees them: one query for the last messages not already at hand and
   * one (usually cached) for the other participants, however many conversations there are.
   */
  async views(viewerId: number, conversations: ConversationRecord[], known: MessageRecord[] = []): Promise<ConversationJson[]> {
    const knownById = new Map(known.map((m) => [m.id, m]));
    const missing = conversations
      .map((c) => c.lastMessageId)
      .filter((id): id is number => id !== null && !knownById.has(id));
    const [fetched, profiles] = await Promise.all([
      this.deps.messages.findVisibleByIds(missing),
      this.deps.users.findMany(conversations.map((c) => otherParticipant(c, viewerId))),
    ]);
    return conversations.map((c) => {
      const last = c.lastMessageId === null ? undefined : (knownById.get(c.lastMessageId) ?? fetched.get(c.lastMessageId));
      return toConversationJson(c, viewerId, profiles.get(otherParticipant(c, viewerId)), last);
    });
  }
}
