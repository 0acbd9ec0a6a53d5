import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createCast } from '../helpers/factories';
import { TEST_JWT_SECRET, type TestApp, useTestApp } from '../helpers/test-app';

const get = (t: TestApp, token: string) => t.api().get('/api/chat/unread-count').set('Authorization', `Bearer ${token}`);

describe('HS256 with issuer, audience and custom claims', () => {
  const app = useTestApp({ auth: { secret: TEST_JWT_SECRET, issuer: 'host.example', audience: 'duet', userClaim: 'uid' } });
  let alice: number;
  beforeEach(async () => {
    ({ alice } = await createCast(app().chat.sequelize));
  });

  const sign = (claims: object, options: jwt.SignOptions = {}) =>
    jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'host.example', audience: 'duet', expiresIn: 60, ...options });

  test('a token with the right issuer and audience and the user in the configured claim passes', async () => {
    expect((await get(app(), sign({ uid: alice }))).status).toBe(200);
    expect((await get(app(), sign({ uid: String(alice) }))).status).toBe(200);
  });

  test('a wrong issuer or audience is UNAUTHORIZED', async () => {
    for (const token of [sign({ uid: alice }, { issuer: 'evil' }), sign({ uid: alice }, { audience: 'other' })]) {
      const res = await get(app(), token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
  });

  test('the user id must be in the configured claim', async () => {
    const res = await get(app(), sign({ sub: String(alice) }));
    expect(res.status).toBe(401);
  });

  test('a token with alg none is refused', async () => {
    const unsigned = jwt.sign({ uid: alice, iss: 'host.example', aud: 'duet' }, '', { algorithm: 'none' });
    expect((await get(app(), unsigned)).status).toBe(401);
  });
});

describe.each([
  ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
] as const)('%s with JWT_PUBLIC_KEY', (algorithm, makeKeys) => {
  const keys = makeKeys();
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const app = useTestApp({ auth: { publicKey } });
  let alice: number;
  beforeEach(async () => {
    ({ alice } = await createCast(app().chat.sequelize));
  });

  test('a token signed with the private key passes', async () => {
    const token = jwt.sign({ sub: alice }, keys.privateKey, { algorithm, expiresIn: 60 });
    expect((await get(app(), token)).status).toBe(200);
  });

  test('an HS256 token signed with the public key text is refused (no algorithm confusion)', async () => {
    const forged = jwt.sign({ sub: alice }, TEST_JWT_SECRET, { algorithm: 'HS256' });
    expect((await get(app(), forged)).status).toBe(401);
  });
});

describe('a token that was accepted once', () => {
  const app = useTestApp();

  const signFor = (userId: number, expiresIn: number) =>
    jwt.sign({ sub: String(userId) }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn });

  test('is refused once it expires, although verified tokens are remembered', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    // exp has a resolution of one second: 2 s gives the first request at least one, then wait past it.
    const token = signFor(alice, 2);
    expect((await get(app(), token)).status).toBe(200);
    const exp = (jwt.decode(token) as { exp: number }).exp * 1000;
    await new Promise((resolve) => setTimeout(resolve, exp - Date.now() + 50));
    const res = await get(app(), token);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/invalid|expired/);
  });

  test('is refused once the host removes its user', async () => {
    const { alice } = await createCast(app().chat.sequelize);
    const token = signFor(alice, 3600);
    expect((await get(app(), token)).status).toBe(200);
    await app().chat.sequelize.query('DELETE FROM users WHERE id = :id', { replacements: { id: alice } });
    expect((await get(app(), token)).status).toBe(401);
  });
});
