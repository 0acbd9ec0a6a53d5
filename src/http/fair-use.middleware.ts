import type { RequestHandler } from 'express';
import type { DoorRule, FairUse } from '../limits/fair-use';
import { principalOf } from './auth.middleware';

/**
 * The REST side of fair use: the request waits for a place in its user's lane, then takes its
 * tokens (the body is read only by the two rules whose class depends on the other user).
 */
export function fairUseDoor(fairUse: FairUse): (rule: DoorRule) => RequestHandler {
  return (rule) => async (req, res, next) => {
    const { userId } = principalOf(res);
    let entered = false;
    let closed = false;
    res.once('close', () => {
      closed = true;
      if (entered) fairUse.lanes.leave(userId);
    });
    await fairUse.lanes.enter(userId);
    entered = true;
    // The client left while the request waited: give the place straight back.
    if (closed) return fairUse.lanes.leave(userId);
    await fairUse.admit(principalOf(res), rule, req.body);
    next();
  };
}
