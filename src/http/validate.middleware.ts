import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Fields } from '../shared/fields';
import { checkWithExpressValidator } from '../shared/validation';

export interface RouteFields {
  params?: Fields;
  query?: Fields;
  body?: Fields;
}

/**
 * Validates path, query and body with express-validator over the route's fields and leaves the
 * sanitised, merged input in res.locals.input. Undeclared fields never reach a controller.
 */
export function validate(route: RouteFields): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const input: Record<string, unknown> = {};
    if (route.params) Object.assign(input, await checkWithExpressValidator(route.params, req.params, 'params'));
    if (route.query) Object.assign(input, await checkWithExpressValidator(route.query, withoutEmptyValues(req.query), 'query'));
    // A request with no body at all counts as an empty object; a non-object JSON body does not.
    if (route.body) Object.assign(input, await checkWithExpressValidator(route.body, req.body ?? {}, 'body'));
    res.locals.input = input;
    next();
  };
}

/** `?cursor=&before=` means "no cursor": an empty query value counts as absent. */
function withoutEmptyValues(query: Request['query']): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
}

/** The validated input of the current request. */
export function inputOf<T>(res: Response): T {
  return res.locals.input as T;
}
