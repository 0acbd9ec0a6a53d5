import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedPostgresError } from './embedded-postgres-error';
import { canReach, type PostgresAccount, POSTGRES_USER } from './postgres-account';

/** Where clusters go when DATA_DIR sits where the `postgres` user cannot enter (root in a 0700 home). */
export const DEFAULT_FALLBACK_ROOT = '/var/lib/duet/postgres';

export interface ClusterLocation {
  /** The cluster's data directory, as PostgreSQL is given it (no symlink on the way). */
  dir: string;
  /** Set when the cluster lives outside DATA_DIR: DATA_DIR/pg is a symlink to it. */
  linkedFrom?: string;
}

export interface LocationOptions {
  dataDir: string;
  /** EMBEDDED_PG_DIR: the cluster's directory, chosen by the user. */
  override?: string;
  fallbackRoot?: string;
}

/**
 * Decides where the cluster lives: EMBEDDED_PG_DIR when set; else DATA_DIR/pg when PostgreSQL's
 * user can reach it; else a directory under /var/lib/duet (kept across restarts), with DATA_DIR/pg
 * a symlink to it so that the data can be found from the checkout. See the README, "Embedded
 * PostgreSQL".
 */
export function locateCluster(account: PostgresAccount, options: LocationOptions): ClusterLocation {
  if (options.override) return { dir: reachableOrFail(account, path.resolve(options.override), 'EMBEDDED_PG_DIR') };
  const inDataDir = path.join(options.dataDir, 'pg');
  const existing = fs.lstatSync(inDataDir, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(inDataDir), fs.readlinkSync(inDataDir));
    return { dir: reachableOrFail(account, target, `${inDataDir} (a symlink)`), linkedFrom: inDataDir };
  }
  if (canReach(account, options.dataDir)) return { dir: reachableOrFail(account, inDataDir, inDataDir) };
  if (existing) {
    // Never start an empty cluster elsewhere while the user's data sits here unreachable.
    throw new EmbeddedPostgresError(`the cluster in ${inDataDir} is inside a directory the \`${POSTGRES_USER}\` user cannot enter`, [
      `move ${inDataDir} to a directory that user can reach and point EMBEDDED_PG_DIR at it`,
    ]);
  }
  const dataDir = fs.realpathSync(options.dataDir);
  const name = `${path.basename(path.dirname(dataDir)) || 'duet'}-${crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
  const dir = path.join(options.fallbackRoot ?? DEFAULT_FALLBACK_ROOT, name);
  makeTraversable(path.dirname(dir));
  fs.symlinkSync(dir, inDataDir);
  return { dir: reachableOrFail(account, dir, dir), linkedFrom: inDataDir };
}

/** Makes the cluster's directory (0700, owned by PostgreSQL's user), after checking it can be reached. */
function reachableOrFail(account: PostgresAccount, dir: string, shownAs: string): string {
  makeTraversable(path.dirname(dir));
  if (!canReach(account, path.dirname(dir))) {
    throw new EmbeddedPostgresError(`the \`${POSTGRES_USER}\` user cannot enter ${path.dirname(dir)}, where ${shownAs} is`);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (account) fs.chownSync(dir, account.uid, account.gid);
  fs.chmodSync(dir, 0o700);
  return dir;
}

/**
 * Makes a directory and its missing parents 0755 whatever the umask (a hardened 027 would hide
 * them from PostgreSQL's user); directories that already exist are left as they are.
 */
export function makeTraversable(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true });
  if (!first) return;
  for (let made = path.resolve(dir); ; made = path.dirname(made)) {
    fs.chmodSync(made, 0o755);
    if (made === first) return;
  }
}
