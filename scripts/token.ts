import jwt from 'jsonwebtoken';
import { loadConfig } from '../src/config';

/**
 * Prints a demo token signed with the configured HS256 secret (the development secret unless
 * JWT_SECRET is set): `npm run token -- <userId> [--admin] [--ttl 3600]`.
 */
function main(): void {
  const args = process.argv.slice(2);
  const ttlIndex = args.indexOf('--ttl');
  // The value after --ttl is not the user id.
  const userId = args.find((a, i) => /^\d+$/.test(a) && (ttlIndex < 0 || i !== ttlIndex + 1));
  if (!userId) {
    process.stderr.write('usage: npm run token -- <userId> [--admin] [--ttl seconds]\n');
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.auth.secret) {
    process.stderr.write('Tokens can only be made here with an HS256 secret; your host issues RS256/ES256 ones.\n');
    process.exit(2);
  }
  const ttl = ttlIndex >= 0 ? args[ttlIndex + 1] ?? '' : String(24 * 3600);
  // Every token gets an exp: Duet refuses tokens without one (unless JWT_ALLOW_NO_EXP=true).
  if (!/^[1-9]\d{0,9}$/.test(ttl)) {
    process.stderr.write('--ttl takes a whole number of seconds, at least 1\n');
    process.exit(2);
  }
  const expiresIn = Number(ttl);
  const claims: Record<string, unknown> = { [config.auth.userClaim]: userId };
  if (args.includes('--admin')) claims[config.auth.roleClaim] = 'admin';
  const token = jwt.sign(claims, config.auth.secret, {
    algorithm: 'HS256',
    expiresIn,
    ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}),
    ...(config.auth.audience ? { audience: config.auth.audience } : {}),
  });
  process.stdout.write(`${token}\n`);
}

main();
