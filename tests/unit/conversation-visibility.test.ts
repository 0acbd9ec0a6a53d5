import type { ConversationRecord } from '../../src/conversations/conversation.record';
import { hasHeldMessage, isVisibleTo } from '../../src/conversations/conversation-visibility';

const at = new Date('2026-01-01T00:00:00.000Z');

/** Users 1 and 2, no message ever, opened by nobody unless `changes` say so. */
const conversation = (changes: Partial<ConversationRecord> = {}): ConversationRecord => ({
  id: 7,
  participant1Id: 1,
  participant2Id: 2,
  lastMessageId: null,
  lastMessageAt: null,
  lastActivityAt: at,
  participant1Unread: 0,
  participant2Unread: 0,
  heldMessage: false,
  participant1Opened: false,
  participant2Opened: false,
  createdAt: at,
  updatedAt: at,
  ...changes,
});

const seenBy = (c: ConversationRecord) => [1, 2, 3].filter((userId) => isVisibleTo(c, userId));

describe('conversation visibility rules', () => {
  test('an empty conversation is seen only by the participants who opened it', () => {
    expect(seenBy(conversation({ participant1Opened: true }))).toEqual([1]);
    expect(seenBy(conversation({ participant2Opened: true }))).toEqual([2]);
    expect(seenBy(conversation({ participant1Opened: true, participant2Opened: true }))).toEqual([1, 2]);
    expect(hasHeldMessage(conversation({ participant1Opened: true, participant2Opened: true }))).toBe(false);
  });

  test('once it has held a message both participants see it and are partners, and a stranger never sees it', () => {
    const held = conversation({ heldMessage: true, participant1Opened: true });
    expect(seenBy(held)).toEqual([1, 2]);
    expect(hasHeldMessage(held)).toBe(true);
  });

  test('a last message written by a previous-version node counts as held', () => {
    const fromOldNode = conversation({ lastMessageId: 42, lastMessageAt: at, participant1Opened: true });
    expect(hasHeldMessage(fromOldNode)).toBe(true);
    expect(seenBy(fromOldNode)).toEqual([1, 2]);
  });
});
