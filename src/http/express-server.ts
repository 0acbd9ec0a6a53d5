import http from 'node:http';
import type { Express } from 'express';
import { answerClientError } from './client-error';

/**
 * An HTTP server for an Express app whose request and response objects are born with the app's
 * prototypes. Express gives every request and response the app's prototype with
 * Object.setPrototypeOf; on objects Node has already built, that left each request's garbage alive
 * through a young-generation collection (docs/performance.md, "Garbage collection"). Born with the
 * right prototype, Express's call changes nothing. Hosts that embed Duet can build their server
 * with this as well. Requests Node's parser refuses are answered in the contract's error envelope
 * too (client-error.ts).
 */
export function createExpressServer(app: Express): http.Server {
  class Request extends http.IncomingMessage {}
  class Response extends http.ServerResponse {}
  // Request.prototype → app.request → Express's request → IncomingMessage.prototype; and the same
  // for responses. Express then sets each object's prototype to the one it already has.
  Object.setPrototypeOf(Request.prototype, app.request);
  Object.setPrototypeOf(Response.prototype, app.response);
  app.request = Request.prototype as typeof app.request;
  app.response = Response.prototype as typeof app.response;
  const server = http.createServer({ IncomingMessage: Request, ServerResponse: Response }, app);
  server.on('clientError', answerClientError);
  return server;
}
