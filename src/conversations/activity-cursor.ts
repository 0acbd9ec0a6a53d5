import { validationFailed } from '../shared/errors';
import { MAX_INT_ID } from '../shared/ids';
import type { ActivityCursor } from './conversation.repository';

/**
 * The conversation list's opaque cursor: the last row's (last_activity_at, id). Timestamps are
 * stored with millisecond precision, so a JavaScript Date carries them exactly.
 */
export function encodeActivityCursor(cursor: ActivityCursor): string {
  return Buffer.from(`${cursor.lastActivityAt.getTime()}.${cursor.id}`).toString('base64url');
}

export function decodeActivityCursor(raw: string): ActivityCursor {
  const match = /^(\d{1,15})\.(\d{1,10})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  const id = match ? Number(match[2]) : 0;
  if (!match || id < 1 || id > MAX_INT_ID) {
    throw validationFailed('cursor is not valid', [{ field: 'cursor', location: 'query', message: 'not a cursor this API issued' }]);
  }
  return { lastActivityAt: new Date(Number(match[1])), id };
}
