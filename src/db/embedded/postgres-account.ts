import { execFileSync, spawnSync } from 'node:child_process';
import { EmbeddedPostgresError } from './embedded-postgres-error';

/** The uid and gid PostgreSQL runs as; undefined when Duet itself is not root (it runs as us). */
export type PostgresAccount = { uid: number; gid: number } | undefined;

export const POSTGRES_USER = 'postgres';

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** As root: the `postgres` system user, created when the machine has none. */
export function postgresAccount(): PostgresAccount {
  if (!runningAsRoot()) return undefined;
  const found = lookUp();
  if (found) return found;
  try {
    if (!groupExists()) execFileSync('groupadd', ['--system', POSTGRES_USER], { stdio: 'pipe' });
    execFileSync('useradd', ['--system', '--gid', POSTGRES_USER, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', POSTGRES_USER], { stdio: 'pipe' });
  } catch (err) {
    throw new EmbeddedPostgresError(
      `PostgreSQL refuses to run as root, and the \`${POSTGRES_USER}\` user to run it as does not exist and could not be created (${(err as Error).message.split('\n')[0]})`,
      [`create a \`${POSTGRES_USER}\` system user yourself`],
    );
  }
  const created = lookUp();
  if (!created) throw new EmbeddedPostgresError(`the \`${POSTGRES_USER}\` user was created but cannot be looked up`);
  return created;
}

function lookUp(): PostgresAccount {
  try {
    const uid = Number(execFileSync('id', ['-u', POSTGRES_USER], { stdio: 'pipe' }).toString());
    const gid = Number(execFileSync('id', ['-g', POSTGRES_USER], { stdio: 'pipe' }).toString());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

function groupExists(): boolean {
  return spawnSync('getent', ['group', POSTGRES_USER]).status === 0;
}

/**
 * Whether the account can enter a directory or run a program (entering every parent on the way).
 * Asked of the kernel as that account, so ACLs count; we never change a parent's mode to make it so.
 */
export function canReach(account: PostgresAccount, target: string): boolean {
  if (!account) return true;
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], { uid: account.uid, gid: account.gid, stdio: 'ignore' }).status === 0;
}
