import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { TEST_JWT_SECRET } from './test-app';
import { TEST_REDIS_URL } from './cluster';

/*
 * Duet nodes as child processes of the test, for what cannot happen inside the Jest process:
 * SIGKILL, SIGTERM, a process exit. They run the compiled standalone server (src/main.ts).
 */

const REPO_ROOT = path.resolve(__dirname, '../..');
/** What src/shared/project-root.ts expects beside dist/ (host-users config, migrations, web client, the version) and the packages. */
const BESIDE_DIST = ['config', 'migrations', 'public', 'node_modules', 'package.json'];
/** Lines of a node's output kept to explain why it failed to start. */
const KEPT_OUTPUT_LINES = 40;

/**
 * Compiles the server into a temporary directory shaped like the package (dist/ with links to
 * what sits beside it), so tests never rewrite the repository's dist/.
 */
export async function buildDuet(): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-node-build-'));
  for (const entry of BESIDE_DIST) fs.symlinkSync(path.join(REPO_ROOT, entry), path.join(root, entry));
  const tsc = require.resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(root, 'dist'), '--declaration', 'false'], {
    cwd: REPO_ROOT,
  });
  return root;
}

export interface NodeProcess {
  baseUrl: string;
  port: number;
  process: ChildProcess;
  /** Resolves when the process has ended, with its exit code (null when a signal ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Starts `node dist/src/main.js` of a build on a free port and waits until GET /ready answers 200. */
export async function startNodeProcess(build: string, keyPrefix: string, env: NodeJS.ProcessEnv = {}): Promise<NodeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(build, 'dist', 'src', 'main.js')], {
    cwd: build,
    env: {
      ...process.env,
      DATABASE_URL: process.env.DATABASE_URL,
      MIGRATE_ON_START: 'false',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: String(port),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATA_DIR: path.join(build, 'data'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, output.length - KEPT_OUTPUT_LINES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const started = await Promise.race([untilReady(baseUrl, 20_000).then(() => true), exited.then(() => false)]);
  if (!started) throw new Error(`the Duet node on port ${port} exited while starting:\n${output.join('\n')}`);
  return { baseUrl, port, process: child, exited };
}

/**
 * The lifecycle of a file that starts node processes: one build for the file (compiling takes
 * seconds), every process still running killed after each test, the build removed at the end.
 */
export function useNodeBuild(): () => string {
  let build: string | undefined;
  beforeAll(async () => {
    build = await buildDuet();
  }, 120_000);
  afterEach(() => killNodeProcesses());
  afterAll(() => build && fs.rmSync(build, { recursive: true, force: true }));
  return () => {
    if (!build) throw new Error('the build is not ready yet (call the getter inside a hook or test)');
    return build;
  };
}

/** Ends every node process still running (a test that failed before ending its own). */
async function killNodeProcesses(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return gone;
    }),
  );
}

async function untilReady(baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readyStatus(baseUrl)) !== 200) {
    if (Date.now() > deadline) throw new Error(`${baseUrl}/ready did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The status of GET /ready, 0 while nothing listens. No keep-alive: a node stopping later finds no idle connection of ours. */
function readyStatus(baseUrl: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`${baseUrl}/ready`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}
