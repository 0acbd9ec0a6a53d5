import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerToken, type Principal, type TokenVerifier } from '../auth/token-verifier';
import { AppError } from '../shared/errors';

/** Every /api/chat route needs a valid host token naming an existing user. */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const principal = await verifier.verify(bearerToken(req.headers.authorization));
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Admin routes: role claim "admin" in the token; anyone else gets 403. */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (!principalOf(res).isAdmin) throw new AppError('FORBIDDEN', 'Admin role required');
  next();
};
