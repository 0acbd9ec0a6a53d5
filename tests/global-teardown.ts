import type { EmbeddedDatabase } from '../src/db/embedded';

export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as { __duetEmbedded?: EmbeddedDatabase }).__duetEmbedded;
  if (embedded) await embedded.stop();
}
