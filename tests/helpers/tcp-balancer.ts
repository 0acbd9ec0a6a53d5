import net from 'node:net';

/**
 * A TCP load balancer in front of Duet nodes, as a host deploys them: each connection goes to the
 * first backend that accepts it, so clients of a node that stopped land on the next one.
 */
export interface TcpBalancer {
  url: string;
  /** New connections wait (accepted, not yet forwarded) until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startBalancer(backendPorts: readonly number[]): Promise<TcpBalancer> {
  const open = new Set<net.Socket>();
  let gate: Promise<void> = Promise.resolve();

  const forward = async (client: net.Socket) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    await gate;
    for (const port of backendPorts) {
      if (client.destroyed) return;
      const backend = await connected(port);
      if (!backend) continue;
      open.add(backend);
      backend.on('close', () => {
        open.delete(backend);
        client.destroy();
      });
      client.on('close', () => backend.destroy());
      backend.on('error', () => backend.destroy());
      client.pipe(backend);
      backend.pipe(client);
      client.resume();
      return;
    }
    client.destroy();
  };

  const server = net.createServer((client) => void forward(client));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A connection to the backend, or undefined when it refuses (nothing listens there any more). */
function connected(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const backend = net.connect(port, '127.0.0.1');
    backend.once('connect', () => resolve(backend));
    backend.once('error', () => resolve(undefined));
  });
}
