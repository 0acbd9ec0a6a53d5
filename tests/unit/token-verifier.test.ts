import { ConfigError } from '../../src/config';
import { TokenVerifier } from '../../src/auth/token-verifier';
import type { UserDirectory } from '../../src/users/user.directory';

describe('token verifier key', () => {
  // The key is built once at start-up; no user is looked up here.
  const users = {} as UserDirectory;

  test('a JWT_PUBLIC_KEY that is not a PEM public key stops start-up with a config error', () => {
    expect(() => new TokenVerifier({ publicKey: 'not a key', userClaim: 'sub', roleClaim: 'role' }, users)).toThrow(ConfigError);
  });
});
