import fs from 'node:fs';

/**
 * Holding thousands of sockets on one machine: each one is a descriptor in the server and another
 * in the client, and each client socket holds a local port. spawnNode raises every child's soft
 * limit (`ulimit -n`) but cannot pass the hard limit without privilege, and says nothing when it
 * falls short; these checks turn that into a message before the run rather than EMFILE during it.
 */

/** The soft "Max open files" limit of a process, from /proc/<pid>/limits; null if unreadable. */
export function openFileLimit(pid: number | 'self'): number | null {
  try {
    const line = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === 'unlimited' ? Infinity : soft ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** How many local ports connect() picks from (net.ipv4.ip_local_port_range); null if unreadable. */
export function ephemeralPortCount(): number | null {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return high! - low! + 1;
  } catch {
    return null;
  }
}

const HOW_TO_RAISE =
  'The harness raises each child\'s soft limit up to the hard one; raise the hard limit in the shell ' +
  'that runs the benchmark (`ulimit -Hn 65536` as root; LimitNOFILE= under systemd; ' +
  '`docker run --ulimit nofile=65536:65536`), or hold fewer sockets (--soak-sockets).';

/** Throws a plain explanation when `limit` (null: unknown, not checked) is below `needed`. */
export function requireOpenFiles(who: string, limit: number | null, needed: number): void {
  if (limit === null || limit >= needed) return;
  throw new Error(`${who} may open ${limit} files, but needs about ${needed} for its sockets. ${HOW_TO_RAISE}`);
}

export function requirePorts(sockets: number): void {
  const ports = ephemeralPortCount();
  // Leave room for the database pool and sockets of earlier parts still in TIME_WAIT.
  const needed = sockets + 2_000;
  if (ports === null || ports >= needed) return;
  throw new Error(
    `the client side needs ${needed} local ports for ${sockets} sockets, but net.ipv4.ip_local_port_range ` +
      `offers ${ports}: widen it (sysctl -w net.ipv4.ip_local_port_range="1024 65000") or hold fewer sockets.`,
  );
}
