import type { RequestHandler } from 'express';
import type { DoorRule, FairUse } from '../limits/fair-use';
import { principalOf } from './auth.middleware';
import { bodyParsed } from './json-body.middleware';

export interface FairUseMiddleware {
  /** Takes the call's tokens (refused at once when a bucket is empty), then waits for the user's lane. */
  limit(rule: DoorRule): RequestHandler[];
  /** Only the tokens (and the body's parse error, if any): for calls that take the lane later or in part. */
  admit(rule: DoorRule): RequestHandler[];
  /** Waits for a place in the user's lane, given back when the response ends or the client leaves. */
  lane: RequestHandler;
}

/**
 * The REST side of fair use (src/limits/fair-use.ts). The body is read only by the two rules
 * whose class depends on the other user; a body that failed to parse is refused only once the
 * call has paid its token (a malformed call costs one, API.md's clarification).
 */
export function fairUseMiddleware(fairUse: FairUse): FairUseMiddleware {
  const admitOnly = (rule: DoorRule): RequestHandler => async (req, res, next) => {
    await fairUse.admit(principalOf(res), rule, req.body);
    next();
  };
  const admit = (rule: DoorRule): RequestHandler[] => [admitOnly(rule), bodyParsed];
  const lane: RequestHandler = async (_req, res, next) => {
    const principal = principalOf(res);
    // Exempt users and admins are not limited: no lane (FairUse.inLane is the socket's same rule).
    if (fairUse.isExempt(principal)) return next();
    const { userId } = principal;
    let entered = false;
    let closed = false;
    res.once('close', () => {
      closed = true;
      // A 503 is the database not answering: what waits behind it would fare no better.
      if (entered) fairUse.lanes.leave(userId, res.statusCode === 503);
    });
    await fairUse.lanes.enter(userId);
    entered = true;
    // The client left while the request waited: give the place straight back.
    if (closed) return fairUse.lanes.leave(userId);
    next();
  };
  return { admit, lane, limit: (rule) => [...admit(rule), lane] };
}
