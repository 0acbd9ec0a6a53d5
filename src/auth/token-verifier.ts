import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { type AuthConfig, ConfigError } from '../config';
import { AppError } from '../shared/errors';
import type { UserDirectory } from '../users/user.directory';
import { ExpiringCache } from '../shared/bounded-map';
import { parseUserId } from '../shared/ids';

export interface Principal {
  userId: number;
  isAdmin: boolean;
  /** The token's `exp` in epoch milliseconds; absent only for a token without one (JWT_ALLOW_NO_EXP). */
  expiresAt?: number;
}

const unauthorized = (message: string) => new AppError('UNAUTHORIZED', message);

/** Pulls the token out of `Bearer <token>`; REST and the socket handshake share it. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Verified tokens are remembered this long at most (and never past their own expiry). */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const MAX_VERIFIED_TOKENS = 20_000;

/**
 * Verifies a host-issued JWT and resolves its user. The one authentication rule for REST and
 * sockets: HS256 with the shared secret, or RS256/ES256 with a public key; issuer and audience
 * when configured; an `exp` (unless allowNoExp), with no leeway; the user claim must name a user
 * in the host's table.
 */
export class TokenVerifier {
  private readonly key: KeyObject;
  private readonly algorithms: Algorithm[];
  // Checking a signature costs about half a millisecond, more than the rest of a typical read; a
  // client sends the same token with every request, and a token that verified once verifies the
  // same way until it expires.
  private readonly verified = new ExpiringCache<string, Principal>(MAX_VERIFIED_TOKENS);

  constructor(
    private readonly auth: AuthConfig,
    private readonly users: UserDirectory,
  ) {
    this.key = verificationKey(auth);
    this.algorithms = auth.publicKey ? ['RS256', 'ES256'] : ['HS256'];
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw unauthorized('A bearer token is required');
    const principal = this.verified.get(token) ?? this.checkSignature(token);
    // The user is looked up every time (through the user cache): a user the host removes loses access.
    if (!(await this.users.find(principal.userId))) throw unauthorized('The token names an unknown user');
    return principal;
  }

  private checkSignature(token: string): Principal {
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
    // jsonwebtoken refuses a non-numeric exp itself; a missing one it lets through.
    if (payload.exp === undefined && !this.auth.allowNoExp) throw unauthorized('The token has no expiry (exp)');
    const userId = parseUserId(payload[this.auth.userClaim]);
    if (userId === undefined) throw unauthorized(`The token's ${this.auth.userClaim} claim is not a user id`);
    const expiresAt = payload.exp === undefined ? undefined : payload.exp * 1000;
    const claims: Principal = { userId, isAdmin: payload[this.auth.roleClaim] === 'admin', ...(expiresAt === undefined ? {} : { expiresAt }) };
    this.verified.set(token, claims, Math.min(expiresAt ?? Infinity, Date.now() + VERIFIED_TOKEN_TTL_MS));
    return claims;
  }
}

/**
 * The key as a KeyObject, made once. Given a string, jsonwebtoken builds one on every call, and
 * first tries the secret as a PEM public key: that failed attempt alone was a tenth of the
 * server's CPU while sockets connected.
 */
function verificationKey(auth: AuthConfig): KeyObject {
  if (!auth.publicKey) return createSecretKey(Buffer.from(auth.secret ?? '', 'utf8'));
  try {
    return createPublicKey(auth.publicKey);
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY is not a PEM public key');
  }
}
