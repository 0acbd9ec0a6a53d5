import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AppError, errorBody } from '../shared/errors';

/** Node's parser codes for a request line, headers or chunk extensions past the server's limits. */
const TOO_LARGE = new Set(['HPE_HEADER_OVERFLOW', 'HPE_CHUNK_EXTENSIONS_OVERFLOW']);

/**
 * The server's `clientError` listener. Requests that Node's HTTP parser refuses before Express sees
 * them (a URL or headers past maxHeaderSize, bytes that are not HTTP) get the contract's envelope
 * like every other error, instead of Node's bare 431 or 400. The connection closes after it, as
 * it does after Node's own answer.
 */
export function answerClientError(err: NodeJS.ErrnoException, stream: Duplex): void {
  const socket = stream as Socket;
  // Node's own check: answer unless a response on this connection has begun (keep-alive
  // connections carry earlier, finished ones), which an answer here would corrupt.
  if (!socket.writable || responseBegunOn(socket)) {
    socket.destroy();
    return;
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', () => socket.destroy());
    return;
  }
  const error = TOO_LARGE.has(err.code ?? '')
    ? new AppError('PAYLOAD_TOO_LARGE', 'The request line or headers are too large')
    : new AppError('VALIDATION_FAILED', 'The request is not valid HTTP');
  const body = JSON.stringify({ error: errorBody(error) });
  const head = [
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}

/**
 * Whether a response on this connection has begun: what Node's own clientError handler checks,
 * through the connection's current response, which Node keeps in the undocumented
 * `socket._httpMessage` (checked against the running Node by private-internals.test.ts).
 */
export function responseBegunOn(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage?.headersSent === true;
}
