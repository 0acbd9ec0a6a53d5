import { unreadDelta, type VisibilityChange } from '../../src/messages/message-visibility';

/** The receiver's unread counter follows what users can see: the one rule for delete, restore and purge. */
describe('unreadDelta', () => {
  const DELETED_AT = new Date('2026-12-01T00:00:00Z');

  test.each<[VisibilityChange, { isRead: boolean; deletedAt: Date | null }, -1 | 0 | 1]>([
    ['deleted', { isRead: false, deletedAt: DELETED_AT }, -1],
    ['deleted', { isRead: true, deletedAt: DELETED_AT }, 0],
    ['restored', { isRead: false, deletedAt: null }, 1],
    ['restored', { isRead: true, deletedAt: null }, 0],
    // A purge gets the row as it was: visible and unread counted, soft-deleted no longer did.
    ['purged', { isRead: false, deletedAt: null }, -1],
    ['purged', { isRead: false, deletedAt: DELETED_AT }, 0],
    ['purged', { isRead: true, deletedAt: null }, 0],
  ])('%s %o moves the counter by %d', (change, message, delta) => {
    expect(unreadDelta(change, message)).toBe(delta);
  });
});
