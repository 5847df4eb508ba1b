/** `dsmip6 inspect --record FILE`: stores a daemon's inspection stream for later replay in the UI. */

import { parseArgs } from 'node:util';
import { recordStream } from '../inspect/record.js';
import type { Io } from './main.js';

const USAGE = 'usage: dsmip6 inspect --record FILE [--url ws://127.0.0.1:8190/stream] [--token T]';

export async function runInspect(argv: readonly string[], io: Io): Promise<number> {
  let values: { record?: string; url?: string; token?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { record: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } },
    }));
  } catch (e) {
    io.err(`dsmip6 inspect: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.record) {
    io.err(`dsmip6 inspect: --record FILE is required\n${USAGE}`);
    return 2;
  }
  const url = values.url ?? 'ws://127.0.0.1:8190/stream';
  let recording: Awaited<ReturnType<typeof recordStream>>;
  try {
    recording = await recordStream(url, values.record, {
      ...((values.token ?? process.env.DSMIP6_INSPECT_TOKEN)
        ? { token: values.token ?? process.env.DSMIP6_INSPECT_TOKEN }
        : {}),
    });
  } catch (e) {
    io.err(`dsmip6 inspect: cannot record ${url}: ${(e as Error).message}`);
    return 1;
  }
  io.out(
    `recording ${url} to ${values.record}; Ctrl-C stops (open the file in the inspector page to replay it)`,
  );
  await Promise.race([
    recording.done,
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
  ]);
  await recording.stop();
  io.out(`${recording.frames()} frames recorded`);
  return 0;
}
