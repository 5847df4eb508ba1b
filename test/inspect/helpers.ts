/** Shared fixtures for the inspector tests: a supervisor around natKeepalive, and a stream client. */

import { WebSocket } from 'ws';
import { forwardTo, setup } from 'xstate';
import type { InspectRecord } from '../../src/inspect/collector.js';
import { decodeRecord } from '../../src/inspect/server.js';
import { type NatKeepaliveEvent, natKeepaliveMachine } from '../../src/machines/nat-keepalive.js';

export type SupervisorEvent = NatKeepaliveEvent | { type: 'STOP_KA' };

/** A parent that invokes natKeepalive under systemId `nat-keepalive` and forwards BA/MOVED to it. */
export function supervisorMachine(onReport: (r: { type: string }) => void = () => {}) {
  return setup({
    types: { events: {} as SupervisorEvent },
    actors: {
      natKeepalive: natKeepaliveMachine.provide({ actions: { report: (_, r) => onReport(r) } }),
    },
  }).createMachine({
    id: 'sup',
    initial: 'running',
    states: {
      running: {
        invoke: { id: 'ka', src: 'natKeepalive', systemId: 'nat-keepalive', input: {} },
        on: { BA: { actions: forwardTo('ka') }, MOVED: { actions: forwardTo('ka') }, STOP_KA: 'idle' },
      },
      idle: {},
    },
  });
}

export interface StreamClient {
  ws: WebSocket;
  records: InspectRecord[];
  /** Resolves with the first record (from the start) matching `pred`. */
  waitFor(pred: (r: InspectRecord) => boolean, timeoutMs?: number): Promise<InspectRecord>;
  close(): Promise<void>;
}

export function connect(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  const ws = new WebSocket(url, { headers });
  const records: InspectRecord[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    records.push(decodeRecord(data as Buffer));
    for (const w of waiters) w();
  });
  const client: StreamClient = {
    ws,
    records,
    waitFor: (pred, timeoutMs = 4000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = records.find(pred);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
          return found !== undefined;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; got ${records.length} records`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
    close: () =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

/** Resolves with the HTTP status a WebSocket upgrade gets (101 when it connects). */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const c = await connect(url, headers);
    await c.close();
    return 101;
  } catch (e) {
    const m = /HTTP (\d+)/.exec(String(e));
    if (m) return Number(m[1]);
    throw e;
  }
}

export const natBa = (refreshSeconds: number): SupervisorEvent => ({
  type: 'BA',
  natDetection: { forceUdp: false, refreshSeconds },
});
