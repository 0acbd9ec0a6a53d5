import type { Request } from 'express';

/**
 * A request's route as its pattern (`/api/chat/conversations/:id`), never its path with the ids in
 * it: one label per route for metrics and the access log, and no user data in either.
 */
export function routeLabel(req: Request): string {
  return req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
}
