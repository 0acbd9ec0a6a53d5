import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What the numbers were measured on, recorded with them. */

export interface MachineInfo {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  kernel: string;
  node: string;
  postgres: string | null;
  socketIo: string | null;
  git: { commit: string | null; srcDirty: boolean | null };
  /** Load averages when the run started: other work on the machine skews every figure. */
  loadAverageAtStart: number[];
}

function packageVersion(name: string): string | null {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [path.resolve(__dirname, '../..')] });
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const status = git(['status', '--porcelain', '--', 'src']);
  return {
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    node: process.version,
    postgres: null,
    socketIo: packageVersion('socket.io'),
    git: { commit: git(['rev-parse', 'HEAD']), srcDirty: status === null ? null : status.length > 0 },
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
