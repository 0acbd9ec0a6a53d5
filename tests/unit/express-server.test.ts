import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { createExpressServer } from '../../src/http/express-server';

/** What each request and response was born as, seen before Express touches them, and what the app answered. */
async function probe(app: Express, server: http.Server) {
  const born: { request: boolean; response: boolean }[] = [];
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    born.push({ request: Object.getPrototypeOf(req) === app.request, response: Object.getPrototypeOf(res) === app.response });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bodies: unknown[] = [];
  try {
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/probe`, { headers: { accept: 'application/json' } });
      bodies.push({ status: res.status, body: await res.json() });
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return { born, bodies };
}

function appWithRoute(): Express {
  const app = express();
  app.get('/probe', (req, res) => {
    res.status(201).json({ path: req.path, accepts: req.accepts('json') });
  });
  return app;
}

describe('createExpressServer', () => {
  const answered = { status: 201, body: { path: '/probe', accepts: 'json' } };

  it("builds requests and responses on the app's own prototypes, so Express has nothing to change", async () => {
    const app = appWithRoute();
    const { born, bodies } = await probe(app, createExpressServer(app));
    expect(born).toEqual([
      { request: true, response: true },
      { request: true, response: true },
    ]);
    expect(bodies).toEqual([answered, answered]);
  });

  it('differs from a plain Node server, whose objects Express must re-prototype on every request', async () => {
    const app = appWithRoute();
    const { born, bodies } = await probe(app, http.createServer(app));
    expect(born).toEqual([
      { request: false, response: false },
      { request: false, response: false },
    ]);
    expect(bodies).toEqual([answered, answered]);
  });
});
