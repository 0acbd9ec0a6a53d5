import { createApp } from './app';
import { type Chat, createChat } from './chat';
import { ConfigError, loadConfig } from './config';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './db/embedded';
import { seed } from './db/migrator';
import { createExpressServer } from './http/express-server';
import { tuneGarbageCollector } from './ops/gc-tuning';
import { createLogger, type Logger } from './shared/logger';

/** Standalone Duet: config → database (embedded unless DATABASE_URL) → migrate → listen; stops cleanly. */
async function main(): Promise<void> {
  tuneGarbageCollector();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Duet: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPostgresPort,
      database: 'duet',
      persistent: true,
      clusterDir: config.embeddedPostgresDir,
    });
    databaseUrl = embedded.url;
    logger.info('embedded PostgreSQL started', { clusterDir: embedded.clusterDir, port: config.embeddedPostgresPort });
  }

  const chat = await createChat({
    databaseUrl,
    auth: config.auth,
    users: config.users,
    limits: config.limits,
    logger,
    migrate: config.migrateOnStart,
    production: config.env === 'production',
    userCacheMs: config.userCacheMs,
    dbPoolMax: config.dbPoolMax,
    databaseTimeoutMs: config.databaseTimeoutMs,
    sendBatchesInFlight: config.sendBatchesInFlight,
    attachments: config.attachments,
    retentionDays: config.retentionDays,
    corsOrigins: config.corsOrigins,
    redis: config.redis,
    webhooks: config.webhooks,
  });
  if (embedded) {
    const seeded = await seed(chat.sequelize, config.users);
    if (seeded.length) logger.info('demo users seeded', { seeders: seeded });
  }

  // The contract: listen only once the database answers (with MIGRATE_ON_START=false nothing above
  // has touched it yet).
  await waitForDatabase(chat, logger, config.databaseWaitMs);

  const server = createExpressServer(createApp(chat, { apiDocs: config.env !== 'production' }));
  const realtime = chat.attach(server);
  // Without a listen host, every interface (Node's default).
  await new Promise<void>((resolve) => server.listen(config.port, config.listenHost, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('Duet listening', { port, host: config.listenHost ?? 'all interfaces', embeddedDatabase: Boolean(embedded) });
  if (config.developmentSecret) {
    logger.warn(
      'No JWT_SECRET or JWT_PUBLIC_KEY: tokens are checked with the public development secret, so Duet listens on 127.0.0.1 only. Set JWT_SECRET (or JWT_PUBLIC_KEY) to listen on every interface.',
    );
  }
  if (embedded) {
    process.stdout.write(
      `\nDuet is up on http://localhost:${port}\n` +
        `Embedded PostgreSQL data: ${embedded.clusterDir} (attachments: ${config.attachments.directory})\n` +
        `Get a demo token for user 1 with:  npm run token -- 1\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.warn('shutdown timed out; closing open connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    // Stop accepting, let in-flight requests finish, then release the pool and the database.
    const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let exitCode = 0;
    try {
      await realtime.close();
      await httpClosed;
      await chat.close();
    } catch (err) {
      exitCode = 1;
      logger.error('shutdown step failed', { err: err instanceof Error ? err.message : String(err) });
    }
    if (embedded) await embedded.stop();
    logger.info('stopped');
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A closed terminal: stop like on SIGTERM, so the embedded PostgreSQL is not left running.
  process.on('SIGHUP', () => void stop('SIGHUP'));
}

async function waitForDatabase(chat: Chat, logger: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await chat.isReady())) {
    if (Date.now() > deadline) throw new Error(`the database did not answer within ${timeoutMs} ms`);
    logger.warn('waiting for the database');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Duet failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
