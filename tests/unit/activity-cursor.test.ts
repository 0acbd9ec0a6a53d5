import { decodeActivityCursor, encodeActivityCursor } from '../../src/conversations/activity-cursor';

describe('conversation list cursor', () => {
  test('round-trips the last activity time to the millisecond and the id', () => {
    const cursor = { lastActivityAt: new Date('2026-11-22T10:11:12.345Z'), id: 42 };
    expect(decodeActivityCursor(encodeActivityCursor(cursor))).toEqual(cursor);
  });

  test.each(['', 'abc', Buffer.from('12.x').toString('base64url'), Buffer.from('1.0').toString('base64url'), Buffer.from('1.99999999999').toString('base64url')])(
    'refuses %p with VALIDATION_FAILED',
    (raw) => {
      expect(() => decodeActivityCursor(raw)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    },
  );
});
