import path from 'node:path';
import express, { type Express } from 'express';
import { PROJECT_ROOT } from './shared/project-root';
import type { Chat } from './chat';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { pageSecurityHeaders } from './http/security-headers';
import { readinessHttpStatus } from './ops/readiness';

/** The demo client's files (public/), by route: the page, its script and its style, nothing inline. */
const DEMO_FILES = { '/demo': 'demo.html', '/demo.js': 'demo.js', '/demo.css': 'demo.css' };

/** The standalone server's Express app: operations endpoints plus Duet's router. No listen here. */
export function createApp(chat: Chat): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // The router brings its own headers (it is all that a host mounts); everything else gets the pages' set.
  app.use('/api/chat', chat.router);
  app.use(pageSecurityHeaders());

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const readiness = await chat.readiness();
    res.status(readinessHttpStatus(readiness)).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', chat.metrics.registry.contentType);
    res.send(await chat.metrics.registry.metrics());
  });

  // A small browser client of the contract, for trying Duet out (docs/realtime.md).
  for (const [route, file] of Object.entries(DEMO_FILES)) {
    app.get(route, (_req, res) => {
      res.sendFile(path.join(PROJECT_ROOT, 'public', file));
    });
  }

  app.use(notFoundHandler);
  app.use(errorHandler(chat.logger));
  return app;
}
