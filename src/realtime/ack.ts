import type { ExtendedError, Socket } from 'socket.io';
import { AppError, errorBody, toAppError } from '../shared/errors';
import { errorLog } from '../shared/error-log';
import type { Logger } from '../shared/logger';
import type { Ack, ClientEventName, ClientToServerEvents, ServerToClientEvents, SocketData } from './events';

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Wraps a client event's work so that it always answers: `{ ok: true, ...data }` or
 * `{ ok: false, error }` through the ack, or an `error` event when the client sent no ack and it
 * failed. Nothing the client sends can make the listener throw or leave a rejection unhandled; the
 * promise returned settles (never rejects) once the client has been answered.
 */
export function answer<T extends object>(
  socket: ChatSocket,
  event: ClientEventName,
  logger: Logger,
  work: (payload: unknown) => Promise<T>,
): (...args: unknown[]) => Promise<void> {
  return (...args: unknown[]) => {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack<T>) : undefined;
    const run = args.length > 1 ? Promise.reject(new AppError('VALIDATION_FAILED', 'Send one payload object')) : work(args[0]);
    return run
      .then((data) => ack?.({ ok: true, ...data }))
      .catch((err: unknown) => {
        const appError = toAppError(err);
        if (appError.code === 'INTERNAL' || appError.code === 'UNAVAILABLE') {
          const { userId } = socket.data.principal;
          errorLog(logger).error('socket event failed', err, { event, userId, socketId: socket.id });
        }
        const error = errorBody(appError);
        if (ack) ack({ ok: false, error });
        else socket.emit('error', { event, error });
      });
  };
}

/** A refused handshake as socket.io-client sees it: `connect_error` with the code in `err.data.code`. */
export function handshakeError(err: AppError): ExtendedError {
  const refused: ExtendedError = new Error(err.message);
  refused.data = { code: err.code };
  return refused;
}

export type { ChatSocket };
