import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import type { AuthConfig } from '../config';
import { AppError } from '../shared/errors';
import type { UserDirectory } from '../users/user.directory';
import { parseUserId } from '../shared/ids';

export interface Principal {
  userId: number;
  isAdmin: boolean;
}

const unauthorized = (message: string) => new AppError('UNAUTHORIZED', message);

/** Pulls the token out of `Bearer <token>`; REST and the socket handshake share it. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Verifies a host-issued JWT and resolves its user. The one authentication rule for REST and
 * sockets: HS256 with the shared secret, or RS256/ES256 with a public key; issuer and audience
 * when configured; the user claim must name a user in the host's table.
 */
export class TokenVerifier {
  private readonly key: string;
  private readonly algorithms: Algorithm[];

  constructor(
    private readonly auth: AuthConfig,
    private readonly users: UserDirectory,
  ) {
    this.key = auth.publicKey ?? auth.secret ?? '';
    this.algorithms = auth.publicKey ? ['RS256', 'ES256'] : ['HS256'];
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw unauthorized('A bearer token is required');
    let payload: JwtPayload;
    try {
      const decoded = jwt.verify(token, this.key, {
        algorithms: this.algorithms,
        issuer: this.auth.issuer,
        audience: this.auth.audience,
      });
      if (typeof decoded === 'string') throw new Error('payload is not an object');
      payload = decoded;
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      throw unauthorized(expired ? 'The token has expired' : 'The token is invalid');
    }
    const userId = parseUserId(payload[this.auth.userClaim]);
    if (userId === undefined) throw unauthorized(`The token's ${this.auth.userClaim} claim is not a user id`);
    if (!(await this.users.find(userId))) throw unauthorized('The token names an unknown user');
    return { userId, isAdmin: payload[this.auth.roleClaim] === 'admin' };
  }
}
