import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ROUTES } from '../../src/http/routes';
import { OPENAPI_DOCUMENT } from '../helpers/openapi-check';
import { useTestApp } from '../helpers/test-app';

/**
 * GET /api/chat/openapi.json (issue 16): a valid OpenAPI 3.1 document of every route the router
 * serves, with no token needed. That every response matches it is checked by every test file
 * (tests/helpers/openapi-check.ts).
 */
describe('the OpenAPI document', () => {
  const app = useTestApp();

  interface Operation {
    security?: unknown[];
    responses: Record<string, unknown>;
    parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
    requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
    'x-required-role'?: string;
  }
  const operations = () =>
    Object.entries(OPENAPI_DOCUMENT.paths as unknown as Record<string, Record<string, Operation>>).flatMap(([p, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${p}`, operation })),
    );

  test('is served without a token, and is what the server builds', async () => {
    const res = await app().api().get('/api/chat/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(OPENAPI_DOCUMENT);
    expect(res.body.openapi).toBe('3.1.0');
  });

  test('is a valid OpenAPI 3.1 document', () => {
    const schemaFile = path.join(path.dirname(require.resolve('@seriousme/openapi-schema-validator/package.json')), 'schemas', 'v3.1', 'schema.json');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('media-range', true); // the OpenAPI schema's own format for content keys
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
    expect(validate(OPENAPI_DOCUMENT) ? [] : validate.errors).toEqual([]);
  });

  test('names every route the router serves, and only those', () => {
    const served = new Set<string>(['GET /openapi.json']);
    for (const layer of (app().chat.router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }).stack) {
      if (!layer.route) continue;
      for (const method of Object.keys(layer.route.methods)) served.add(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
    }
    expect(operations().map((o) => o.key).sort()).toEqual([...served].sort());
  });

  test('marks the admin routes and the bearer token, and lists the errors each route answers', () => {
    for (const { key, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      if (key === 'GET /openapi.json') {
        expect(operation.security).toEqual([]);
        continue;
      }
      expect({ key, security: operation.security }).toEqual({ key, security: undefined }); // the document-wide bearer
      const admin = key.includes(' /admin/');
      expect({ key, role: operation['x-required-role'] }).toEqual({ key, role: admin ? 'admin' : undefined });
      expect({ key, statuses: statuses.filter((s) => ['401', '403', '429', '500', '503'].includes(s)) }).toEqual({
        key,
        statuses: admin ? ['401', '403', '500', '503'] : expect.arrayContaining(['401', '429', '500', '503']),
      });
    }
    expect(OPENAPI_DOCUMENT).toMatchObject({ security: [{ bearerAuth: [] }], components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } } });
  });

  test('takes parameters and bodies from the fields the validators run', () => {
    const history = operations().find((o) => o.key === 'GET /conversations/{id}/messages')!.operation;
    expect(history.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
      expect.objectContaining({ name: 'limit', in: 'query', required: false, schema: expect.objectContaining({ type: 'integer', default: 50, description: expect.stringContaining('above 100 counts as 100') }) }),
      expect.objectContaining({ name: 'before', in: 'query', required: false }),
      expect.objectContaining({ name: 'after', in: 'query', required: false }),
    ]);
    const send = operations().find((o) => o.key === 'POST /send')!.operation;
    expect(Object.keys(send.requestBody!.content['application/json']!.schema.properties as object)).toEqual(Object.keys(ROUTES.send.body));
    const upload = operations().find((o) => o.key === 'POST /attachments')!.operation;
    expect(Object.keys(upload.requestBody!.content)).toEqual(['multipart/form-data']);
  });

  test('is rendered at /api-docs from the package\'s own files, with no inline script', async () => {
    const page = await app().api().get('/api-docs');
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/<script>(?!<\/script>)|https?:\/\//);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const file of ['/api-docs/swagger-ui-bundle.js', '/api-docs/swagger-ui.css', '/api-docs/api-docs.js']) {
      expect([file, (await app().api().get(file)).status]).toEqual([file, 200]);
    }
    expect((await app().api().get('/api-docs/api-docs.js')).text).toContain("url: '/api/chat/openapi.json'");
  });
});
