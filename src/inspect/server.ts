/**
 * The live inspection stream: an HTTP server with a WebSocket endpoint at `/stream` that sends
 * every collector record, msgpackr-encoded, one record per binary message. A client first gets
 * `hello`, then the current actor tree and each actor's latest snapshot, then live records.
 *
 * A slow client never slows the daemon: each client has a bounded queue. Records go straight to
 * the socket while its buffer is small; past that they wait in the queue, and when the queue is
 * full snapshots of one actor are coalesced (the latest wins), actor/stopped records are kept and
 * everything else is dropped. When the queue drains the client gets `{ kind: 'dropped', count }`.
 * If even the structural records overflow, the queue is thrown away and the client is resynced
 * (`dropped`, then `hello` and the full tree again).
 *
 * The stream is read-only; whatever clients send is ignored. A non-loopback bind needs a token,
 * which clients present as `?token=` or `Authorization: Bearer`.
 *
 * Unless `ui: false`, the same server serves the browser inspector (static files in
 * src/inspect/ui/, no build step): `/` and `/ui/*`, msgpackr's browser build at
 * `/vendor/msgpackr.js`, and every registered machine's statechart at `/machines.json`.
 */

import { timingSafeEqual } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';
import { machineModels } from '../testgen/registry.js';
import { statechartJson } from '../testgen/statechart.js';
import {
  type CollectorRecord,
  INSPECT_PROTOCOL_VERSION,
  type InspectCollector,
  type InspectRecord,
} from './collector.js';

export const STREAM_PATH = '/stream';
export const TOKEN_ENV = 'DSMIP6_INSPECT_TOKEN';
/** Records a client may have queued before coalescing and dropping start. */
export const DEFAULT_CLIENT_QUEUE = 1000;
/** Bytes in a client's socket buffer above which records are queued instead of sent. */
export const DEFAULT_HIGH_WATER = 256 * 1024;

/** Plain msgpack maps (no msgpackr record extension), so any msgpack decoder can read the stream. */
const packr = new Packr({ useRecords: false });

export function encodeRecord(r: InspectRecord): Buffer {
  return packr.pack(r);
}

export function decodeRecord(buf: Uint8Array): InspectRecord {
  return packr.unpack(buf) as InspectRecord;
}

export interface InspectServerOptions {
  host?: string;
  port: number;
  /** Falls back to the DSMIP6_INSPECT_TOKEN environment variable. */
  token?: string;
  /** Demand a token even on a loopback address (non-loopback addresses always do). */
  requireToken?: boolean;
  collector: InspectCollector;
  /** Per-client queue bound (default 1000 records). */
  queueLimit?: number;
  /** Socket buffer size above which a client counts as slow (default 256 KiB). */
  highWaterBytes?: number;
  /** Environment to read the token from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Serve the browser UI at `/` (default true); false leaves a plain-text page there. */
  ui?: boolean;
  /**
   * Listen on a Unix socket instead of host:port (a daemon inside a network namespace: the
   * socket file is reachable from the host's namespace, where a proxy can serve it).
   */
  path?: string;
}

export interface InspectServer {
  readonly host: string;
  readonly port: number;
  /** ws://host:port/stream */
  readonly url: string;
  /** Connected clients. */
  clients(): number;
  /** Per-client queue state, for diagnostics and tests. */
  stats(): ClientStats[];
  /** Closes every client and the server. */
  close(): Promise<void>;
}

export interface ClientStats {
  /** Records waiting in the client's queue. */
  queued: number;
  /** Records lost since the last `dropped` record was sent. */
  lost: number;
  /** Bytes in the client's socket buffer. */
  bufferedAmount: number;
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || /^::ffff:127\./.test(h);
}

/** One queued message; `snapshotOf` marks a coalescable snapshot, `structural` one that is never dropped. */
interface Entry {
  buf: Buffer;
  snapshotOf?: string;
  structural: boolean;
}

class Client {
  private queue: (Entry | undefined)[] = [];
  private head = 0;
  private live = 0;
  /** Index in `queue` of the queued snapshot of each actor. */
  private snapshotAt = new Map<string, number>();
  private lost = 0;
  private resync = false;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly limit: number,
    private readonly highWater: number,
    private readonly initial: () => Buffer[],
  ) {
    for (const buf of initial()) this.offer({ buf, structural: true });
  }

  stats(): ClientStats {
    return { queued: this.live, lost: this.lost, bufferedAmount: this.ws.bufferedAmount };
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.live = 0;
    this.snapshotAt.clear();
  }

  /** Queue or send one record; never blocks, never grows past its bound (see the file comment). */
  offer(e: Entry): void {
    if (this.closed) return;
    if (this.resync) {
      this.lost++;
      return;
    }
    if (this.live === 0 && this.lost === 0 && this.ws.bufferedAmount < this.highWater) {
      this.send(e.buf);
      return;
    }
    if (this.live >= this.limit) {
      const prev = e.snapshotOf === undefined ? undefined : this.snapshotAt.get(e.snapshotOf);
      if (prev !== undefined) {
        this.kill(prev);
        this.lost++;
      } else if (!e.structural && e.snapshotOf === undefined) {
        this.lost++;
        return;
      } else if (!this.evictOne()) {
        if (this.live >= this.limit * 2) {
          // Only structural records and one snapshot per actor are left: start over.
          this.lost += this.live + 1;
          this.queue = [];
          this.head = 0;
          this.live = 0;
          this.snapshotAt.clear();
          this.resync = true;
          return;
        }
      }
    }
    this.push(e);
    this.pump();
  }

  private push(e: Entry): void {
    if (e.snapshotOf !== undefined) this.snapshotAt.set(e.snapshotOf, this.queue.length);
    this.queue.push(e);
    this.live++;
    if (this.queue.length > this.limit * 3 && this.head > 0) this.compact();
  }

  private kill(i: number): void {
    const e = this.queue[i];
    if (!e) return;
    if (e.snapshotOf !== undefined && this.snapshotAt.get(e.snapshotOf) === i) {
      this.snapshotAt.delete(e.snapshotOf);
    }
    this.queue[i] = undefined;
    this.live--;
  }

  /** Drop the oldest droppable entry (not structural, not a snapshot). */
  private evictOne(): boolean {
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e && !e.structural && e.snapshotOf === undefined) {
        this.kill(i);
        this.lost++;
        return true;
      }
    }
    return false;
  }

  private compact(): void {
    const kept: (Entry | undefined)[] = [];
    this.snapshotAt.clear();
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (!e) continue;
      if (e.snapshotOf !== undefined) this.snapshotAt.set(e.snapshotOf, kept.length);
      kept.push(e);
    }
    this.queue = kept;
    this.head = 0;
  }

  private send(buf: Buffer): void {
    this.ws.send(buf, { binary: true }, this.onSent);
  }

  /** Called when a message has left the process (or failed): maybe room for more. */
  private readonly onSent = (err?: Error): void => {
    if (err || this.closed) return;
    if (!this.pumping) this.pump();
  };

  private pump(): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    this.pumping = true;
    try {
      while (this.ws.bufferedAmount < this.highWater) {
        if (this.live === 0) {
          this.queue = [];
          this.head = 0;
          if (this.lost > 0) {
            const count = this.lost;
            this.lost = 0;
            this.send(encodeRecord({ kind: 'dropped', count }));
          }
          if (this.resync) {
            this.resync = false;
            for (const buf of this.initial()) this.push({ buf, structural: true });
            continue;
          }
          return;
        }
        const e = this.queue[this.head];
        this.queue[this.head] = undefined;
        this.head++;
        if (!e) continue;
        if (e.snapshotOf !== undefined && this.snapshotAt.get(e.snapshotOf) === this.head - 1) {
          this.snapshotAt.delete(e.snapshotOf);
        }
        this.live--;
        this.send(e.buf);
      }
    } finally {
      this.pumping = false;
    }
  }
}

function tokenFrom(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  return q ?? undefined;
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

const INDEX_TEXT = `dsmip6 inspector

The browser UI is turned off on this server.
The record stream (msgpack, one record per WebSocket binary message) is at ${STREAM_PATH}.
`;

/** The UI's static files: next to this module (src/) or, when running from dist/, back in src/. */
function findUiDir(): string | undefined {
  for (const rel of ['./ui/', '../../src/inspect/ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** Path → file for every static file the UI needs; built once per server. */
function uiRoutes(): Map<string, string> {
  const routes = new Map<string, string>();
  const dir = findUiDir();
  if (dir !== undefined) {
    routes.set('/', join(dir, 'index.html'));
    for (const f of ['index.html', 'app.js', 'active.js', 'style.css']) routes.set(`/ui/${f}`, join(dir, f));
  }
  try {
    // The package exports no subpaths; its require entry is dist/node.cjs, next to the UMD
    // browser build dist/index.js (a classic script that sets the global `msgpackr`).
    const main = createRequire(import.meta.url).resolve('msgpackr');
    routes.set('/vendor/msgpackr.js', join(dirname(main), 'index.js'));
  } catch {
    // Not installed where expected: the page reports it cannot decode.
  }
  return routes;
}

let machinesJson: string | undefined;
function allStatecharts(): string {
  machinesJson ??= JSON.stringify(
    Object.fromEntries(machineModels.map((m) => [m.machine.id, statechartJson(m.machine)])),
  );
  return machinesJson;
}

function serveFile(res: ServerResponse, file: string, head: boolean): void {
  readFile(file).then(
    (body) => {
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-cache',
      });
      res.end(head ? undefined : body);
    },
    () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    },
  );
}

export async function startInspectServer(options: InspectServerOptions): Promise<InspectServer> {
  const host = options.host ?? '127.0.0.1';
  const env = options.env ?? process.env;
  const token = options.token ?? env[TOKEN_ENV] ?? undefined;
  // A Unix socket is local by construction: only who can reach the file can connect.
  const needsToken = options.path === undefined && (!isLoopback(host) || options.requireToken === true);
  if (needsToken && !token) {
    throw new Error(`inspect: binding to ${host} needs --inspect-token or ${TOKEN_ENV}`);
  }
  const limit = Math.max(1, options.queueLimit ?? DEFAULT_CLIENT_QUEUE);
  const highWater = Math.max(1, options.highWaterBytes ?? DEFAULT_HIGH_WATER);
  const collector = options.collector;
  const ui = options.ui ?? true;
  const routes = ui ? uiRoutes() : new Map<string, string>();
  const machines = ui ? allStatecharts() : '';

  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = routes.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (file !== undefined) {
      serveFile(res, file, req.method === 'HEAD');
    } else if (ui && path === '/machines.json') {
      res.writeHead(200, { 'content-type': CONTENT_TYPES['.json']!, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : machines);
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(INDEX_TEXT);
    } else if (path === STREAM_PATH) {
      res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' });
      res.end('WebSocket only\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const clients = new Map<WebSocket, Client>();

  const initial = (): Buffer[] => [
    encodeRecord({ kind: 'hello', version: INSPECT_PROTOCOL_VERSION, now: Date.now() }),
    ...collector.state().map(encodeRecord),
  ];

  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== STREAM_PATH) {
      reject(socket, 404, 'Not Found');
      return;
    }
    if (token && !sameToken(tokenFrom(req), token)) {
      reject(socket, 401, 'Unauthorized');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      // Read-only stream: client messages are ignored.
      ws.on('message', () => {});
      ws.on('close', () => {
        clients.get(ws)?.close();
        clients.delete(ws);
      });
      clients.set(ws, new Client(ws, limit, highWater, initial));
    });
  });

  const unsubscribe = collector.subscribe((r: CollectorRecord) => {
    if (clients.size === 0) return;
    const entry: Entry = {
      buf: encodeRecord(r),
      structural: r.kind === 'actor' || r.kind === 'stopped',
    };
    if (r.kind === 'snapshot') entry.snapshotOf = r.id;
    for (const c of clients.values()) c.offer(entry);
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    const listening = () => {
      http.off('error', reject);
      resolve();
    };
    if (options.path !== undefined) {
      rmSync(options.path, { force: true });
      http.listen(options.path, listening);
    } else {
      http.listen(options.port, host, listening);
    }
  });
  const port = options.path !== undefined ? 0 : (http.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    host,
    port,
    url:
      options.path !== undefined
        ? `ws+unix:${options.path}:${STREAM_PATH}`
        : `ws://${urlHost}:${port}${STREAM_PATH}`,
    clients: () => clients.size,
    stats: () => [...clients.values()].map((c) => c.stats()),
    close: async () => {
      unsubscribe();
      for (const [ws, c] of clients) {
        c.close();
        ws.terminate();
      }
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
