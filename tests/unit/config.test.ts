import path from 'node:path';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config';

const SECRET = 'x'.repeat(32);

describe('config', () => {
  test('development runs on the development secret and the documented defaults', () => {
    const config = loadConfig({});
    expect(config.auth.secret).toBe(DEV_JWT_SECRET);
    expect(config.port).toBe(3000);
    expect(config.users).toEqual({ table: 'users', idColumn: 'id', nameColumn: 'name', avatarColumn: 'avatar_url' });
    expect(config.limits).toMatchObject({ maxMessageLength: 4000, maxUploadBytes: 10485760, socketMaxPending: 32, exemptUserIds: [] });
    expect(config.limits.rates).toEqual({
      send: { burst: 100, perSecond: 20 },
      conversation: { burst: 20, perSecond: 0.1 },
      receipt: { burst: 200, perSecond: 50 },
      typing: { burst: 20, perSecond: 4 },
      read: { burst: 200, perSecond: 50 },
      upload: { burst: 20, perSecond: 0.5 },
    });
    expect(config.migrateOnStart).toBe(true);
    expect(config.sendBatchesInFlight).toBe(1);
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('production refuses to start without a real secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }).auth.secret).toBe(SECRET);
  });

  test('a public key switches verification to it', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----';
    const config = loadConfig({ NODE_ENV: 'production', JWT_PUBLIC_KEY: pem });
    expect(config.auth.publicKey).toContain('\n');
    expect(config.auth.secret).toBeUndefined();
  });

  test('ATTACHMENT_QUOTA_BYTES caps what one user stores: 1 GiB by default, a positive whole number', () => {
    expect(loadConfig({}).attachments.quotaBytes).toBe(1024 * 1024 * 1024);
    expect(loadConfig({ ATTACHMENT_QUOTA_BYTES: '5242880' }).attachments.quotaBytes).toBe(5242880);
    expect(() => loadConfig({ ATTACHMENT_QUOTA_BYTES: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ATTACHMENT_QUOTA_BYTES: '1.5e9' })).toThrow(ConfigError);
    expect(() => loadConfig({ ATTACHMENT_QUOTA_BYTES: '-1' })).toThrow(ConfigError);
  });

  test('malformed numbers and identifiers fail fast', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAX_MESSAGE_LENGTH: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ USERS_TABLE: 'users; DROP TABLE x' })).toThrow(ConfigError);
    expect(() => loadConfig({ MIGRATE_ON_START: 'perhaps' })).toThrow(ConfigError);
    expect(() => loadConfig({ SEND_BATCHES_IN_FLIGHT: '0' })).toThrow(ConfigError);
    expect(loadConfig({ SEND_BATCHES_IN_FLIGHT: '3' }).sendBatchesInFlight).toBe(3);
  });

  test('host table names and limits come from the environment', () => {
    const config = loadConfig({
      USERS_TABLE: 'accounts',
      USERS_ID_COLUMN: 'account_id',
      USERS_NAME_COLUMN: 'display_name',
      USERS_AVATAR_COLUMN: '',
      MAX_MESSAGE_LENGTH: '10',
      MIGRATE_ON_START: 'false',
    });
    expect(config.users).toEqual({ table: 'accounts', idColumn: 'account_id', nameColumn: 'display_name', avatarColumn: '' });
    expect(config.limits.maxMessageLength).toBe(10);
    expect(config.migrateOnStart).toBe(false);
  });

  test('tokens without exp are refused unless JWT_ALLOW_NO_EXP is true', () => {
    expect(loadConfig({}).auth.allowNoExp).toBe(false);
    expect(loadConfig({ JWT_ALLOW_NO_EXP: 'true' }).auth.allowNoExp).toBe(true);
    expect(loadConfig({ JWT_ALLOW_NO_EXP: 'false' }).auth.allowNoExp).toBe(false);
    expect(() => loadConfig({ JWT_ALLOW_NO_EXP: 'sometimes' })).toThrow(ConfigError);
  });

  test('on the development secret the server listens on 127.0.0.1 only; with a real secret or key, everywhere', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----';
    for (const env of [{}, { NODE_ENV: 'test' }, { JWT_SECRET: DEV_JWT_SECRET }]) {
      expect(loadConfig(env)).toMatchObject({ developmentSecret: true, listenHost: '127.0.0.1' });
    }
    for (const env of [{ JWT_SECRET: SECRET }, { JWT_PUBLIC_KEY: pem }, { NODE_ENV: 'production', JWT_SECRET: SECRET }]) {
      const config = loadConfig(env);
      expect(config.developmentSecret).toBe(false);
      expect(config.listenHost).toBeUndefined();
    }
  });

  test('CORS_ORIGINS lists origins, normalized; unset means the same origin only', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'https://App.example.com/, http://localhost:5173,' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.com' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/chat' })).toThrow(/CORS_ORIGINS/);
  });

  test('EMBEDDED_PG_DIR is unset by default and made absolute when set', () => {
    expect(loadConfig({}).embeddedPostgresDir).toBeUndefined();
    expect(loadConfig({ EMBEDDED_PG_DIR: 'cluster' }).embeddedPostgresDir).toBe(path.resolve('cluster'));
  });

  test('every fair-use class takes its burst and rate from the environment; rates may be fractions', () => {
    const config = loadConfig({ RATE_LIMIT_SEND_BURST: '5', RATE_LIMIT_UPLOAD_PER_SEC: '0.25', RATE_LIMIT_EXEMPT_USERS: '7, 9', SOCKET_MAX_PENDING: '4' });
    expect(config.limits.rates.send).toEqual({ burst: 5, perSecond: 20 });
    expect(config.limits.rates.upload).toEqual({ burst: 20, perSecond: 0.25 });
    expect(config.limits.exemptUserIds).toEqual([7, 9]);
    expect(config.limits.socketMaxPending).toBe(4);
    expect(() => loadConfig({ RATE_LIMIT_READ_PER_SEC: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_TYPING_BURST: '1.5' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_EXEMPT_USERS: '1,x' })).toThrow(ConfigError);
  });

  test('DATABASE_TIMEOUT_MS bounds every wait for the database: 5 s by default, at least 100 ms', () => {
    expect(loadConfig({}).databaseTimeoutMs).toBe(5000);
    expect(loadConfig({ DATABASE_TIMEOUT_MS: '1500' }).databaseTimeoutMs).toBe(1500);
    expect(() => loadConfig({ DATABASE_TIMEOUT_MS: '50' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_TIMEOUT_MS: '2s' })).toThrow(ConfigError);
  });
});
