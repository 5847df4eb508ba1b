/**
 * The local control socket `dsmip6 status` talks to: a Unix stream socket that answers each
 * connection with one JSON document (the daemon's current status) and closes. Read-only by
 * construction: nothing the client sends is read.
 */

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export async function serveControl(path: string, snapshot: () => unknown): Promise<ControlServer> {
  mkdirSync(dirname(path), { recursive: true });
  // A socket file left by a crashed daemon would make listen() fail with EADDRINUSE.
  if (existsSync(path)) {
    const alive = await new Promise<boolean>((resolve) => {
      const c = createConnection(path);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (alive) throw new Error(`control socket ${path} is in use: another dsmip6 daemon is running`);
    rmSync(path, { force: true });
  }
  const server: Server = createServer((conn) => {
    conn.on('error', () => conn.destroy());
    conn.end(`${JSON.stringify(snapshot())}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}

/** Reads one status document from a daemon's control socket. */
export function queryControl(path: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let text = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      text += d;
    });
    c.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error(`${path} answered something that is not dsmip6 status JSON`));
      }
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new Error(
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
            ? `no dsmip6 daemon at ${path} (is it running? --socket PATH names another)`
            : `${path}: ${e.message}`,
        ),
      );
    });
  });
}
