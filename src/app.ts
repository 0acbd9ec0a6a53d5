import path from 'node:path';
import express, { type Express } from 'express';
import { PROJECT_ROOT } from './shared/project-root';
import type { Chat } from './chat';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { pageSecurityHeaders } from './http/security-headers';
import { readinessHttpStatus } from './ops/readiness';

const swaggerUiDirectory = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The demo client's files (public/), by route: the page, its script and its style, nothing inline. */
const DEMO_FILES = { '/demo': 'demo.html', '/demo.js': 'demo.js', '/demo.css': 'demo.css' };

/** Swagger UI's files that the API reference page loads, served from the package (no CDN). */
const SWAGGER_UI_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js'];

export interface AppOptions {
  /** The API reference page at /api-docs (default true; the standalone server turns it off in production). */
  apiDocs?: boolean;
}

/** The standalone server's Express app: operations endpoints plus Duet's router. No listen here. */
export function createApp(chat: Chat, options: AppOptions = {}): Express {
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

  // The API reference: the OpenAPI document rendered by Swagger UI (README, "Integrating with your back end").
  if (options.apiDocs ?? true) {
    app.get(['/api-docs', '/api-docs/'], (_req, res) => {
      res.sendFile(path.join(PROJECT_ROOT, 'public', 'api-docs.html'));
    });
    app.get('/api-docs/api-docs.js', (_req, res) => {
      res.sendFile(path.join(PROJECT_ROOT, 'public', 'api-docs.js'));
    });
    for (const file of SWAGGER_UI_FILES) {
      app.get(`/api-docs/${file}`, (_req, res) => {
        res.sendFile(path.join(swaggerUiDirectory, file));
      });
    }
  }

  app.use(notFoundHandler);
  app.use(errorHandler(chat.logger));
  return app;
}
