import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bearerToken, type Principal, type TokenVerifier } from '../auth/token-verifier';
import type { AdminService } from '../admin/admin.service';

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

/**
 * Admin routes ask the admin service's rule before they validate anything, so a non-admin gets 403
 * whatever they send (every AdminService method applies the same rule again, for any other door).
 */
export function adminGate(admin: Pick<AdminService, 'authorize'>): RequestHandler {
  return (_req, res, next) => {
    admin.authorize(principalOf(res));
    next();
  };
}
