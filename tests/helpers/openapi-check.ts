import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express, NextFunction, Request, Response } from 'express';
import express from 'express';
import { buildOpenApiDocument } from '../../src/http/openapi/document';
import { ROUTES } from '../../src/http/routes';

/**
 * Every response the suite gets from /api/chat is checked against the OpenAPI document (issue 16),
 * so the document cannot lie: the status must be one the operation lists, and a JSON body must
 * match that status's schema. Apps made by tests/helpers/test-app.ts go through `checkedAgainstOpenApi`;
 * each test file fails at its end if anything did not match (useStartedApp).
 */
export const OPENAPI_DOCUMENT = buildOpenApiDocument(Object.values(ROUTES)) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
};

const DOCUMENT_ID = 'duet-openapi';
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addSchema({ ...OPENAPI_DOCUMENT, $id: DOCUMENT_ID });

const validators = new Map<string, ValidateFunction>();
function validatorFor(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    validators.set(pointer, validate);
  }
  return validate;
}

const escape = (segment: string) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
const pointerTo = (...segments: string[]) => segments.map((s) => `/${escape(s)}`).join('');

const violations: string[] = [];
let checkedResponses = 0;

/** What did not match since the last call (and how many responses were checked). */
export function takeOpenApiViolations(): { violations: string[]; checked: number } {
  const taken = { violations: violations.splice(0), checked: checkedResponses };
  checkedResponses = 0;
  return taken;
}

function check(req: Request, status: number, body: unknown, isJson: boolean): void {
  checkedResponses++;
  const described = `${req.method} ${req.originalUrl} → ${status}`;
  // No route matched (404), or a middleware before the route answered (401, 413, 415...): the error envelope.
  const routePath = req.route?.path as string | undefined;
  if (!routePath) {
    if (status < 400) violations.push(`${described}: no documented route answered with a success`);
    else if (isJson && !validatorFor('/components/schemas/Error')(body)) violations.push(`${described}: not the error envelope`);
    return;
  }
  const path = routePath.replace(/:(\w+)/g, '{$1}');
  const method = req.method.toLowerCase();
  const operation = OPENAPI_DOCUMENT.paths[path]?.[method];
  if (!operation) return void violations.push(`${described}: ${method} ${path} is not in the document`);
  const response = operation.responses[String(status)];
  if (!response) return void violations.push(`${described}: status ${status} is not documented for ${method} ${path}`);
  if (!isJson) return;
  if (!response.content?.['application/json']) return void violations.push(`${described}: a JSON body, where the document has none`);
  const validate = validatorFor(pointerTo('paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema'));
  if (!validate(body)) violations.push(`${described}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
}

/** An app in front of `inner` that checks each /api/chat response as it is sent. */
export function checkedAgainstOpenApi(inner: Express): Express {
  const outer = express();
  outer.disable('x-powered-by');
  outer.use((req: Request, res: Response, next: NextFunction) => {
    // CORS preflights (OPTIONS) are not operations of the API.
    if (!req.originalUrl.startsWith('/api/chat/') || req.originalUrl.startsWith('/api/chat/openapi.json') || req.method === 'OPTIONS') return next();
    let sentJson = false;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      sentJson = true;
      check(req, res.statusCode, body, true);
      return json(body);
    };
    res.on('finish', () => {
      if (!sentJson) check(req, res.statusCode, undefined, false);
    });
    next();
  });
  outer.use(inner);
  return outer;
}
