import net from 'node:net';

const HOST = '127.0.0.1';
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type PortMode = 'pass' | 'refuse' | 'blackhole';

/**
 * A TCP forwarder on 127.0.0.1 in front of a real server (s3rver, PostgreSQL). `refuse` closes the
 * listener and every open connection: clients get ECONNREFUSED and resets, as from a stopped server.
 * `blackhole` accepts connections and never answers nor forwards (a hung server or a dropped route).
 */
export class FaultyPort {
  port = 0;
  mode: PortMode = 'pass';
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  /** Connections from clients still open, and who waits for there to be none. */
  private clients = new Set<net.Socket>();
  private onIdle: (() => void)[] = [];
  private constructor(readonly target: number) {
    this.server = this.makeServer();
  }

  static async open(target: number): Promise<FaultyPort> {
    const p = new FaultyPort(target);
    await p.listen(0);
    return p;
  }

  private makeServer(): net.Server {
    return net.createServer((client) => {
      this.sockets.add(client);
      this.clients.add(client);
      client.on('close', () => {
        this.sockets.delete(client);
        this.clients.delete(client);
        if (!this.clients.size) for (const resolve of this.onIdle.splice(0)) resolve();
      });
      client.on('error', () => undefined);
      // Accepted, read (so that a client's close is seen) and never answered.
      if (this.mode === 'blackhole') return void client.resume();
      const upstream = net.connect(this.target, HOST);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, HOST, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Resolves once every client connection has been closed, by the client or by the port. */
  idle(): Promise<void> {
    if (!this.clients.size) return Promise.resolve();
    return new Promise((resolve) => this.onIdle.push(resolve));
  }

  private dropConnections() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async set(mode: PortMode): Promise<void> {
    if (mode === this.mode) return;
    const wasListening = this.mode !== 'refuse';
    this.dropConnections();
    this.mode = mode;
    if (mode === 'refuse') {
      await new Promise<void>((r) => this.server.close(() => r()));
      return;
    }
    if (!wasListening) {
      this.server = this.makeServer();
      // The same port again: the service's configuration names it.
      for (let i = 0; ; i++) {
        try {
          await this.listen(this.port);
          return;
        } catch (err) {
          if (i > 50) throw err;
          await delay(100);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.dropConnections();
    if (this.mode !== 'refuse') await new Promise<void>((r) => this.server.close(() => r()));
    this.mode = 'refuse';
  }
}
