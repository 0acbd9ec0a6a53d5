import type { ExtendedError, Socket } from 'socket.io';
import type { OriginPolicy } from '../http/origin-policy';
import { AppError } from '../shared/errors';
import { handshakeError } from './ack';

/**
 * The socket handshake's origin check, as a namespace middleware placed before authentication. Not
 * engine.io's allowRequest: a refusal there reaches socket.io-client only as a bare transport error
 * ("xhr poll error", "websocket error") that it retries forever, while a middleware refusal is a
 * `connect_error` with `err.data.code = "FORBIDDEN"`, after which the client stops.
 */
export function originGuard(policy: OriginPolicy): (socket: Socket, next: (err?: ExtendedError) => void) => void {
  return (socket, next) => {
    const { origin, host } = socket.handshake.headers;
    if (policy.allows(origin, host)) return next();
    next(handshakeError(new AppError('FORBIDDEN', 'This origin may not open a socket')));
  };
}
