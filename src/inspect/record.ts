/**
 * Recording the inspection stream to a file for later replay: every WebSocket message is appended
 * as it came (the msgpack bytes), each prefixed by its length as a 32-bit big-endian integer.
 */

import { createWriteStream, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type RawData, WebSocket } from 'ws';
import type { InspectRecord } from './collector.js';
import { decodeRecord } from './server.js';

export interface RecordOptions {
  token?: string;
}

export interface Recording {
  /** Messages written so far. */
  frames(): number;
  /** Resolves when the stream ends (server closed it, or `stop()`), after the file is flushed. */
  readonly done: Promise<void>;
  /** Disconnects and flushes the file. */
  stop(): Promise<void>;
}

/** Connects to an inspect stream and appends every message to `file`; resolves once connected. */
export function recordStream(url: string, file: string, options: RecordOptions = {}): Promise<Recording> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const ws = new WebSocket(url, { headers });
  return new Promise<Recording>((resolve, reject) => {
    ws.once('open', () => {
      // The file is opened only once the stream is there (an unreachable daemon leaves no empty
      // file behind), and synchronously, so a bad path is this call's error, not a late one.
      let fd: number;
      try {
        fd = openSync(file, 'a');
      } catch (e) {
        ws.terminate();
        reject(
          new Error(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`),
        );
        return;
      }
      const out = createWriteStream('', { fd });
      let frames = 0;
      let finished = false;
      const done = new Promise<void>((resolveDone) => {
        const finish = (): void => {
          if (finished) return;
          finished = true;
          out.end(() => resolveDone());
        };
        ws.on('close', finish);
        ws.on('error', finish);
        // A failing disk ends the recording instead of throwing from a stream without a listener.
        out.on('error', () => {
          ws.terminate();
          finished = true;
          resolveDone();
        });
      });
      ws.on('message', (data: RawData) => {
        const buf = Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.isBuffer(data)
            ? data
            : Buffer.from(data);
        const len = Buffer.allocUnsafe(4);
        len.writeUInt32BE(buf.length);
        out.write(len);
        out.write(buf);
        frames++;
      });
      resolve({
        frames: () => frames,
        done,
        stop: async () => {
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
          await done;
        },
      });
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`inspect: ${url} answered ${res.statusCode}`));
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Splits a recording into its frames (msgpack bytes); a truncated last frame is ignored. */
export function splitFrames(data: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off + 4 <= data.length) {
    const len = view.getUint32(off);
    if (off + 4 + len > data.length) break;
    frames.push(data.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return frames;
}

/** Reads a recording back, record by record. */
export async function readRecording(file: string): Promise<InspectRecord[]> {
  return splitFrames(await readFile(file)).map(decodeRecord);
}
