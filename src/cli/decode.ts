/** `dsmip6 decode FILE.pcap`: every packet through dsmip6's own dissector. */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dissect, LINKTYPE_RAW, parsePcap, summarize } from '../wire/index.js';
import type { Io } from './main.js';

export function runDecode(argv: readonly string[], io: Io): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`dsmip6 decode: ${(e as Error).message}\nusage: dsmip6 decode FILE.pcap [--json]`);
    return 2;
  }
  const file = parsed.positionals[0];
  if (!file || parsed.positionals.length > 1) {
    io.err('dsmip6 decode: expected exactly one pcap file\nusage: dsmip6 decode FILE.pcap [--json]');
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    io.err(`dsmip6 decode: cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const pcap = parsePcap(bytes);
  if (!pcap.ok) {
    io.err(`dsmip6 decode: ${file}: ${pcap.error.message}`);
    return 1;
  }
  if (pcap.value.linkType !== LINKTYPE_RAW) {
    io.err(`dsmip6 decode: ${file}: link type ${pcap.value.linkType}, expected ${LINKTYPE_RAW} (raw IP)`);
    return 1;
  }
  let malformed = 0;
  pcap.value.records.forEach((r, i) => {
    const d = dissect(r.data);
    if (d.error) malformed++;
    io.out(
      parsed.values.json ? JSON.stringify({ packet: i + 1, ...d }, jsonBytes) : `${i + 1}  ${summarize(d)}`,
    );
  });
  if (!parsed.values.json) io.out(`${pcap.value.records.length} packets, ${malformed} malformed`);
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, options: { json: { type: 'boolean' } } });
}

/** JSON replacer: byte arrays as hex strings. */
function jsonBytes(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}
