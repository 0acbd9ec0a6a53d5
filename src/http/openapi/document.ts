import path from 'node:path';
import type { RequestHandler } from 'express';
import { ERROR_STATUS, type ErrorCode } from '../../shared/errors';
import { PROJECT_ROOT } from '../../shared/project-root';
import { toJsonSchema, toParameters } from '../../shared/validation';
import type { RouteSpec } from '../routes';
import { BODIES, RESPONSE_SCHEMAS } from './response-schemas';

const { version } = require(path.join(PROJECT_ROOT, 'package.json')) as { version: string };

/**
 * What every route may answer besides its own errors: any request may carry a body, which is
 * read (and refused when malformed, too large or not JSON) before the route's own checks.
 */
const COMMON_ERRORS: ErrorCode[] = ['VALIDATION_FAILED', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'INTERNAL', 'UNAVAILABLE'];

const ERROR_MEANINGS: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'malformed input',
  UNAUTHORIZED: 'no valid token of a host user',
  FORBIDDEN: 'not allowed to the caller',
  NOT_FOUND: 'no such thing, or not visible to the caller',
  CONFLICT: 'the state does not allow it',
  PAYLOAD_TOO_LARGE: 'the body is over the limit',
  UNSUPPORTED_MEDIA_TYPE: 'the type is not allowed',
  RATE_LIMITED: "over the caller's fair-use limit (Retry-After says when to try again)",
  INTERNAL: 'a fault of the server (never details)',
  UNAVAILABLE: 'the database did not answer in time; try again',
};

const json = (schema: object) => ({ 'application/json': { schema } });
const errorRef = { $ref: '#/components/schemas/Error' };

/**
 * The OpenAPI 3.1 document of the REST API, built from the route table (src/http/routes.ts) and
 * the same field definitions the validators run (src/shared/fields.ts), so it cannot drift from
 * what the server checks; the suite checks every response it gets against it.
 */
export function buildOpenApiDocument(routes: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const openApiPath = route.path.replace(/:(\w+)/g, '{$1}');
    (paths[openApiPath] ??= {})[route.method] = operation(route);
  }
  paths['/openapi.json'] = {
    get: {
      operationId: 'openApiDocument',
      summary: 'This document',
      tags: ['Meta'],
      security: [],
      responses: { 200: { description: 'The OpenAPI document', content: json({ type: 'object' }) } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Duet chat API',
      version,
      description: 'One-to-one chat for a host product: REST under /api/chat (this document) and Socket.IO events (see the project\'s API.md).',
    },
    servers: [{ url: '/api/chat' }],
    tags: [{ name: 'Messages' }, { name: 'Conversations' }, { name: 'Attachments' }, { name: 'Admin', description: 'Needs a token with the admin role' }, { name: 'Meta' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: RESPONSE_SCHEMAS,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT issued by the host; the admin routes need its role claim to be "admin"' } },
    },
  };
}

function operation(route: RouteSpec): Record<string, unknown> {
  const parameters = [...(route.params ? toParameters(route.params, 'params') : []), ...(route.query ? toParameters(route.query, 'query') : [])];
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const content =
      response.body === 'bytes'
        ? { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } }
        : response.body && json(BODIES[response.body]);
    responses[status] = { description: response.description, ...(content && { content }) };
  }
  for (const [status, codes] of errorsByStatus(route)) {
    responses[status] = {
      description: codes.map((code) => `${code}: ${ERROR_MEANINGS[code]}`).join('; '),
      content: json(errorRef),
      ...(codes.includes('RATE_LIMITED') && { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } }),
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.access === 'admin' && { description: 'Admin only: a token whose role claim is "admin"; anyone else gets 403.', 'x-required-role': 'admin' }),
    ...(parameters.length && { parameters }),
    ...(route.body && { requestBody: { required: false, content: json(toJsonSchema(route.body)) } }),
    ...(route.upload && {
      requestBody: {
        required: true,
        content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] } } },
      },
    }),
    responses,
  };
}

/** The route's error codes grouped by HTTP status, in status order. */
function errorsByStatus(route: RouteSpec): [number, ErrorCode[]][] {
  const codes = new Set<ErrorCode>([...COMMON_ERRORS, ...(route.errors ?? [])]);
  // Admin routes are not limited (API.md, "Clarifications"); anyone without the role gets 403.
  codes.add(route.access === 'admin' ? 'FORBIDDEN' : 'RATE_LIMITED');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return [...byStatus].sort(([a], [b]) => a - b);
}

/** GET /openapi.json: the document, built once. */
export function openApiDocumentHandler(routes: readonly RouteSpec[]): RequestHandler {
  const body = JSON.stringify(buildOpenApiDocument(routes));
  return (_req, res) => {
    res.type('application/json').send(body);
  };
}
