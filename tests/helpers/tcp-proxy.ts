import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in the test process: a real network path to Redis (or to a Duet node) that a test
 * can cut, as an outage or a dropped connection would, and restore on the same port.
 */
export class TcpProxy {
  private server: net.Server;
  private readonly open = new Set<net.Socket>();
  private listening = true;
  private frozen = false;

  private constructor(
    server: net.Server,
    readonly port: number,
    private targetPort: number,
  ) {
    this.server = server;
  }

  /** Listens on an ephemeral port of 127.0.0.1 and forwards every connection to `targetPort` there. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((socket) => proxy!.forward(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port, targetPort);
    return proxy;
  }

  /** Destroys every open connection and refuses new ones (connection refused) until `restore`. */
  async cut(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.open) socket.destroy();
    this.open.clear();
    await closed;
  }

  /**
   * Stops every byte both ways and holds new connections without a word, like a peer that hangs
   * (connections stay open; nothing is refused). `cut` then `restore` end it.
   */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.open) {
      socket.unpipe();
      socket.pause();
    }
  }

  /**
   * Accepts again on the same port (if cut), forwarding new connections to `targetPort` (by
   * default where it did before): as a balancer, it sends clients to another node this way.
   */
  async restore(targetPort = this.targetPort): Promise<void> {
    this.targetPort = targetPort;
    this.frozen = false;
    if (this.listening) return;
    this.server = net.createServer((socket) => this.forward(socket));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.listening = true;
  }

  close(): Promise<void> {
    return this.cut();
  }

  private forward(client: net.Socket): void {
    if (this.frozen) {
      this.open.add(client);
      client.on('close', () => this.open.delete(client));
      client.on('error', () => client.destroy());
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    for (const [socket, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.open.add(socket);
      socket.pipe(peer);
      // Either side ending or failing (a target that refuses, a cut) ends the pair.
      socket.on('close', () => {
        this.open.delete(socket);
        peer.destroy();
      });
      socket.on('error', () => socket.destroy());
    }
  }
}
