import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { type CpuProbe, groupProbe, processProbe } from './proc-cpu';
import { spawnNode, stopChild } from './processes';
import type { ChildMessage, ParentMessage } from './protocol';

/**
 * A group of client child processes (load generators, soak clients) driven over IPC: several, so
 * that on two cores the client side is not one event loop that falls behind before the server does.
 */
export class ClientProcesses {
  protected constructor(protected readonly children: ChildProcess[]) {}

  /** Starts `count` copies of a script of this folder with an open-file limit of `nofile`. */
  protected static spawn(script: string, count: number, nofile: number): ChildProcess[] {
    return Array.from({ length: count }, () =>
      spawnNode(path.join(__dirname, script), [], { env: process.env, nofile, output: 'inherit', ipc: true }),
    );
  }

  get size(): number {
    return this.children.length;
  }

  cpuProbe(): CpuProbe {
    return groupProbe('generator', this.children.map((c, i) => processProbe(`generator-${i}`, c.pid!)));
  }

  /** Disconnects every socket and ends the processes. */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.connected) await ask(child, { type: 'close' }, 'closed', 30_000).catch(() => undefined);
        await stopChild(child, 5_000);
      }),
    );
  }

  /** For an interrupted run: no goodbyes. */
  kill(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

type Reply<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** Sends a command and waits for the reply of the given type; a 'failed' reply or an exit rejects. */
export function ask<T extends ChildMessage['type']>(child: ChildProcess, message: ParentMessage, expect: T, timeoutMs = 30 * 60_000): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`generator ${child.pid}: no '${expect}' within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (reply: ChildMessage) => {
      if (reply.type === expect) done(undefined, reply as Reply<T>);
      else if (reply.type === 'failed') done(new Error(`generator ${child.pid}: ${reply.message}`));
    };
    const onExit = (code: number | null) => done(new Error(`generator ${child.pid} exited (${code}) while waiting for '${expect}'`));
    function done(err?: Error, reply?: Reply<T>) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(reply!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}
