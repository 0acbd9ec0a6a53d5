import fs from 'node:fs';
import type { EmbeddedDatabase } from '../src/db/embedded';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __duetEmbedded?: { embedded: EmbeddedDatabase; dataDir: string } }).__duetEmbedded;
  if (!started) return;
  await started.embedded.stop();
  fs.rmSync(started.dataDir, { recursive: true, force: true });
}
