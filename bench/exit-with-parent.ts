/**
 * Preloaded into the servers under test (`node --require`). If the benchmark dies without stopping
 * them (kill -9, a crash), the IPC channel closes and the server stops itself as on SIGTERM, so
 * Duet still shuts its embedded PostgreSQL down instead of leaving it orphaned on its port.
 */
if (process.send) {
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The channel must not keep the server alive by itself, nor change how it exits.
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
