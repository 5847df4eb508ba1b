/**
 * A TCP listener that forwards every connection to a Unix socket. Daemons inside network
 * namespaces serve their inspector on a Unix socket (a file, reachable from the host's namespace);
 * the demo exposes it on the host's loopback this way, bytes only.
 */

import { createConnection, createServer, type Server } from 'node:net';

export interface TcpToUnixProxy {
  readonly port: number;
  close(): Promise<void>;
}

export async function proxyTcpToUnix(host: string, port: number, path: string): Promise<TcpToUnixProxy> {
  const server: Server = createServer((client) => {
    const upstream = createConnection(path);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
