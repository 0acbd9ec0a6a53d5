import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

describe('webhook settings', () => {
  test('off without WEBHOOK_URL; on with it, with the documented defaults', () => {
    expect(loadConfig({}).webhooks).toBeUndefined();
    expect(loadConfig({ WEBHOOK_SECRET: SECRET }).webhooks).toBeUndefined();
    expect(loadConfig({ WEBHOOK_URL: 'https://host.example/hooks', WEBHOOK_SECRET: SECRET }).webhooks).toEqual({
      url: 'https://host.example/hooks',
      secret: SECRET,
      retryBaseMs: 5000,
      retryHours: 24,
    });
  });

  test('the retry settings are read, and the hours may be a fraction', () => {
    const env = { WEBHOOK_URL: 'http://127.0.0.1:9/x', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_MS: '250', WEBHOOK_RETRY_HOURS: '0.5' };
    expect(loadConfig(env).webhooks).toMatchObject({ retryBaseMs: 250, retryHours: 0.5 });
  });

  test.each([
    [{ WEBHOOK_URL: 'https://host.example/hooks' }, /WEBHOOK_SECRET is required/],
    [{ WEBHOOK_URL: 'ftp://host.example/hooks', WEBHOOK_SECRET: SECRET }, /WEBHOOK_URL must be an http/],
    [{ WEBHOOK_URL: 'not a url', WEBHOOK_SECRET: SECRET }, /WEBHOOK_URL must be an http/],
    [{ WEBHOOK_URL: 'https://h/x', WEBHOOK_SECRET: 'plain-secret' }, /WEBHOOK_SECRET must be whsec_/],
    [{ WEBHOOK_URL: 'https://h/x', WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, /at least 16/],
    [{ WEBHOOK_URL: 'https://h/x', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_MS: '0' }, /WEBHOOK_RETRY_BASE_MS/],
    [{ WEBHOOK_URL: 'https://h/x', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_HOURS: '-1' }, /WEBHOOK_RETRY_HOURS/],
    [{ WEBHOOK_URL: 'https://h/x', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_HOURS: '0' }, /WEBHOOK_RETRY_HOURS/],
  ])('refuses %j at start with a clear error', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
