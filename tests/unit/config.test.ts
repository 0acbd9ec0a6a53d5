import path from 'node:path';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config';

const SECRET = 'x'.repeat(32);

describe('config', () => {
  test('development runs on the development secret and the documented defaults', () => {
    const config = loadConfig({});
    expect(config.auth.secret).toBe(DEV_JWT_SECRET);
    expect(config.port).toBe(3000);
    expect(config.users).toEqual({ table: 'users', idColumn: 'id', nameColumn: 'name', avatarColumn: 'avatar_url' });
    expect(config.limits).toMatchObject({ maxMessageLength: 4000, maxUploadBytes: 10485760, sendBurst: 100, sendPerSecond: 20 });
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

  test('EMBEDDED_PG_DIR is unset by default and made absolute when set', () => {
    expect(loadConfig({}).embeddedPostgresDir).toBeUndefined();
    expect(loadConfig({ EMBEDDED_PG_DIR: 'cluster' }).embeddedPostgresDir).toBe(path.resolve('cluster'));
  });

  test('DATABASE_TIMEOUT_MS bounds every wait for the database: 5 s by default, at least 100 ms', () => {
    expect(loadConfig({}).databaseTimeoutMs).toBe(5000);
    expect(loadConfig({ DATABASE_TIMEOUT_MS: '1500' }).databaseTimeoutMs).toBe(1500);
    expect(() => loadConfig({ DATABASE_TIMEOUT_MS: '50' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_TIMEOUT_MS: '2s' })).toThrow(ConfigError);
  });
});
