import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Schema } from 'express-validator';
import { validateFields } from '../shared/validation';

export interface RouteSchemas {
  params?: Schema;
  query?: Schema;
  body?: Schema;
}

/**
 * Validates path, query and body with the route's schemas and leaves the sanitised, merged input
 * in res.locals.input. Undeclared fields never reach a controller.
 */
export function validate(schemas: RouteSchemas): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const input: Record<string, unknown> = {};
    if (schemas.params) Object.assign(input, await validateFields(schemas.params, { ...req.params }, 'params'));
    if (schemas.query) Object.assign(input, await validateFields(schemas.query, withoutEmptyValues(req.query), 'query'));
    // A request with no body at all counts as an empty object; a non-object JSON body does not.
    if (schemas.body) Object.assign(input, await validateFields(schemas.body, req.body ?? {}, 'body'));
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
