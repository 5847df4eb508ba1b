/**
 * tshark as an independent oracle (see /work/shared/spec/tshark-oracle.md): packets go into a
 * temporary pcap (link type 101, raw IP) written with dsmip6's own `emitPcap`, tshark decodes it
 * to JSON, and the helpers below read field values, raw bytes and expert verdicts back out.
 *
 * tshark is a hard requirement: when it is missing every call throws, so the tests fail instead of
 * silently skipping.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitPcap } from '../../src/wire/pcap.js';

export type TsharkValue = string | number | null | TsharkNode | readonly TsharkValue[];
export interface TsharkNode {
  readonly [key: string]: TsharkValue;
}

/** One decoded frame: the `_source.layers` object of tshark's JSON output. */
export interface TsharkPacket {
  readonly layers: TsharkNode;
}

/** One Security Association for tshark's ESP decoder (8 UAT columns, tshark-oracle.md). */
export interface EspSa {
  /** The header carrying the ESP: 'IPv6' or 'IPv4' ('*' and 'Any' are rejected by tshark). */
  readonly protocol: 'IPv4' | 'IPv6';
  readonly src?: string;
  readonly dst?: string;
  readonly spi: number;
  /** Exactly as tshark names it, e.g. 'NULL', 'AES-CBC [RFC3602]'. */
  readonly encryption: string;
  /** '0x...' hex, or '' for NULL. */
  readonly encryptionKey?: string;
  /** Exactly as tshark names it, e.g. 'NULL', 'HMAC-SHA-256-128 [RFC4868]'. */
  readonly authentication: string;
  readonly authenticationKey?: string;
}

export interface TsharkOptions {
  readonly espSas?: readonly EspSa[];
}

/** Expert severities as tshark writes them in `_ws.expert.severity` (epan/proto.h PI_*). */
export const ExpertSeverity = {
  Chat: 0x00200000,
  Note: 0x00400000,
  Warning: 0x00600000,
  Error: 0x00800000,
} as const;

export const MISSING_TSHARK = 'tshark is required: apt-get install -y tshark';

/** Options every decode uses (tshark-oracle.md "Commands"). */
const BASE_ARGS = [
  '-n',
  '-o',
  'ipv6.exthdr_under_root_protocol_tree:TRUE',
  '-d',
  'udp.port==4191,ip',
  '-o',
  'ip.check_checksum:TRUE',
  '-o',
  'udp.check_checksum:TRUE',
] as const;

const espArgs = (sas: readonly EspSa[] = []): string[] => {
  if (sas.length === 0) return [];
  const args = [
    '-o',
    'esp.enable_encryption_decode:TRUE',
    '-o',
    'esp.enable_authentication_check:TRUE',
    // A pcap of unrelated samples reuses sequence numbers; that is not what the tests look at.
    '-o',
    'esp.do_esp_sequence_analysis:FALSE',
  ];
  for (const sa of sas) {
    const spi = `0x${sa.spi.toString(16).padStart(8, '0')}`;
    const cols = [
      sa.protocol,
      sa.src ?? '*',
      sa.dst ?? '*',
      spi,
      sa.encryption,
      sa.encryptionKey ?? '',
      sa.authentication,
      sa.authenticationKey ?? '',
    ];
    args.push('-o', `uat:esp_sa:${cols.map((c) => JSON.stringify(c)).join(',')}`);
  }
  return args;
};

/** Runs tshark on `packets` (written to a temporary pcap) with `args`; returns stdout. */
function runTshark(packets: readonly Uint8Array[], args: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsmip6-tshark-'));
  try {
    const file = join(dir, 'packets.pcap');
    writeFileSync(file, emitPcap(packets.map((data, i) => ({ timestampMicros: i * 1000, data }))));
    const result = spawnSync('tshark', ['-r', file, ...args], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      // A private, empty profile directory: the user's own preferences cannot change the decode.
      env: { ...process.env, WIRESHARK_CONFIG_DIR: dir },
    });
    if (result.error) {
      const code = (result.error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(MISSING_TSHARK);
      throw result.error;
    }
    if (result.status !== 0) {
      throw new Error(`tshark exited with ${result.status}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The installed version ("4.0.17"); throws MISSING_TSHARK when tshark is not installed. */
export function tsharkVersion(): string {
  const result = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(MISSING_TSHARK);
    throw result.error;
  }
  const m = /TShark \(Wireshark\) (\d+\.\d+\.\d+)/.exec(result.stdout);
  if (!m) throw new Error(`unexpected tshark --version output: ${result.stdout.slice(0, 200)}`);
  return m[1]!;
}

/** Decodes `packets` (raw IPv4/IPv6 datagrams), one TsharkPacket per input packet, in order. */
export function tsharkDecode(packets: readonly Uint8Array[], options: TsharkOptions = {}): TsharkPacket[] {
  const out = runTshark(packets, [
    ...BASE_ARGS,
    ...espArgs(options.espSas),
    '-T',
    'json',
    '--no-duplicate-keys',
    '-x',
  ]);
  const parsed: unknown = JSON.parse(out);
  if (!Array.isArray(parsed)) throw new Error('tshark JSON output is not an array');
  const frames = parsed.map((frame: unknown): TsharkPacket => {
    const layers = (frame as { _source?: { layers?: unknown } })._source?.layers;
    if (!isNode(layers)) throw new Error('tshark JSON frame without _source.layers');
    return { layers };
  });
  if (frames.length !== packets.length) {
    throw new Error(`tshark decoded ${frames.length} frames from ${packets.length} packets`);
  }
  return frames;
}

/** Decodes a single packet. */
export function tsharkDecodeOne(packet: Uint8Array, options: TsharkOptions = {}): TsharkPacket {
  return tsharkDecode([packet], options)[0]!;
}

/**
 * Frame numbers (1-based) that tshark's own display filter selects, e.g. the verdict filter
 * `_ws.expert.severity >= "Warning" || _ws.malformed`. Used to cross-check `expertVerdict`.
 */
export function tsharkFilter(
  packets: readonly Uint8Array[],
  filter: string,
  options: TsharkOptions = {},
): number[] {
  const out = runTshark(packets, [
    ...BASE_ARGS,
    ...espArgs(options.espSas),
    '-Y',
    filter,
    '-T',
    'fields',
    '-e',
    'frame.number',
  ]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map(Number);
}

export const VERDICT_FILTER = '_ws.expert.severity >= "Warning" || _ws.malformed';

const isNode = (v: unknown): v is TsharkNode => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every value of `field` anywhere under `node` (repeated fields are JSON arrays), in tree order. */
export function fieldValues(node: TsharkValue, field: string): string[] {
  const out: string[] = [];
  const visit = (v: TsharkValue): void => {
    if (Array.isArray(v)) {
      for (const x of v as readonly TsharkValue[]) visit(x);
      return;
    }
    if (!isNode(v)) return;
    for (const [key, child] of Object.entries(v)) {
      if (key === field) pushStrings(child, out);
      visit(child);
    }
  };
  visit(node);
  return out;
}

function pushStrings(v: TsharkValue, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v as readonly TsharkValue[]) pushStrings(x, out);
}

/** The single value of `field` under `node`; throws unless there is exactly one. */
export function fieldValue(node: TsharkValue, field: string): string {
  const all = fieldValues(node, field);
  if (all.length !== 1) throw new Error(`expected one ${field}, tshark reported ${JSON.stringify(all)}`);
  return all[0]!;
}

/** Bytes of one field as `-x` reports them (`<field>_raw`): hex, and offset/length in its data source. */
export interface RawField {
  readonly hex: string;
  readonly offset: number;
  readonly length: number;
}

/** Every `<field>_raw` entry under `node` (layers too: `mipv6_raw` is the whole MH). */
export function rawFields(node: TsharkValue, field: string): RawField[] {
  const key = `${field}_raw`;
  const out: RawField[] = [];
  const take = (v: TsharkValue): void => {
    if (!Array.isArray(v)) return;
    const a = v as readonly TsharkValue[];
    if (typeof a[0] === 'string') {
      out.push({ hex: a[0], offset: Number(a[1]), length: Number(a[2]) });
    } else {
      for (const x of a) take(x);
    }
  };
  const visit = (v: TsharkValue): void => {
    if (Array.isArray(v)) {
      for (const x of v as readonly TsharkValue[]) visit(x);
      return;
    }
    if (!isNode(v)) return;
    for (const [k, child] of Object.entries(v)) {
      if (k === key) take(child);
      else if (!k.endsWith('_raw')) visit(child);
    }
  };
  visit(node);
  return out;
}

/** The layers named `name` (e.g. 'ip', 'ipv6', 'mipv6'), outermost first. */
export function layers(pkt: TsharkPacket, name: string): TsharkNode[] {
  const v = pkt.layers[name];
  if (v === undefined) return [];
  const all = Array.isArray(v) ? (v as readonly TsharkValue[]) : [v];
  return all.filter(isNode);
}

/** The only layer named `name`; throws when absent or repeated. */
export function layer(pkt: TsharkPacket, name: string): TsharkNode {
  const all = layers(pkt, name);
  if (all.length !== 1) {
    throw new Error(`expected one ${name} layer, found ${all.length} (${protocols(pkt)})`);
  }
  return all[0]!;
}

/** `frame.protocols`, e.g. "raw:ip:udp:ip:ipv6:mipv6". */
export function protocols(pkt: TsharkPacket): string {
  return fieldValues(pkt.layers.frame ?? {}, 'frame.protocols')[0] ?? '';
}

/**
 * Names of every field that carries a value under `node`: keys whose value is a string (or an
 * array of strings), skipping `_raw` byte entries, `_tree` containers, text-label subtrees and
 * expert items. Lets a test assert it has accounted for every field tshark decoded.
 */
export function reportedFields(node: TsharkValue): Set<string> {
  const out = new Set<string>();
  const visit = (v: TsharkValue): void => {
    if (Array.isArray(v)) {
      for (const x of v as readonly TsharkValue[]) visit(x);
      return;
    }
    if (!isNode(v)) return;
    for (const [key, child] of Object.entries(v)) {
      if (key.endsWith('_raw') || key === '_ws.expert') continue;
      const leaf =
        typeof child === 'string' ||
        (Array.isArray(child) && (child as readonly TsharkValue[]).every((x) => typeof x === 'string'));
      if (leaf) out.add(key);
      else visit(child);
    }
  };
  visit(node);
  return out;
}

export interface ExpertItem {
  readonly severity: number;
  readonly message: string;
}

/** Every expert item (`_ws.expert` entries, including the one inside `_ws.malformed`) in a frame. */
export function expertItems(pkt: TsharkPacket): ExpertItem[] {
  const out: ExpertItem[] = [];
  const visit = (v: TsharkValue): void => {
    if (Array.isArray(v)) {
      for (const x of v as readonly TsharkValue[]) visit(x);
      return;
    }
    if (!isNode(v)) return;
    for (const [key, child] of Object.entries(v)) {
      if (key === '_ws.expert') {
        const items = Array.isArray(child) ? (child as readonly TsharkValue[]) : [child];
        for (const item of items) {
          if (!isNode(item)) continue;
          out.push({
            severity: Number(fieldValues(item, '_ws.expert.severity')[0] ?? Number.NaN),
            message: fieldValues(item, '_ws.expert.message')[0] ?? '',
          });
        }
      }
      if (!key.endsWith('_raw')) visit(child);
    }
  };
  visit(pkt.layers);
  return out;
}

export interface ExpertVerdict {
  /** True when tshark marked the frame Malformed (a dissector exception). */
  readonly malformed: boolean;
  /** Messages of expert items of severity Warning or Error. */
  readonly warnings: string[];
  /** Malformed, or at least one Warning/Error item: what VERDICT_FILTER selects. */
  readonly flagged: boolean;
}

/** tshark's verdict on a frame, read from the JSON (checked against VERDICT_FILTER in the tests). */
export function expertVerdict(pkt: TsharkPacket): ExpertVerdict {
  const malformed = fieldValues(pkt.layers, '_ws.malformed').length > 0;
  const warnings = expertItems(pkt)
    .filter((e) => !(e.severity < ExpertSeverity.Warning))
    .map((e) => e.message);
  return { malformed, warnings, flagged: malformed || warnings.length > 0 };
}
