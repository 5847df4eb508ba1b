/**
 * Classic libpcap files (the format tshark and Wireshark read) with link type 101, LINKTYPE_RAW:
 * each record is a bare IPv4 or IPv6 packet, no link-layer header. Pure encoding; file I/O is the
 * caller's.
 */

import { fail, ok, type Parsed } from './error.js';

export const LINKTYPE_RAW = 101;
const MAGIC_MICROS = 0xa1b2c3d4;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;
export const PCAP_SNAPLEN = 65535;

export interface PcapRecord {
  /** Capture time in microseconds since the Unix epoch. */
  readonly timestampMicros: number;
  readonly data: Uint8Array;
  /** Length on the wire (>= data.length when the capture was truncated). */
  readonly originalLength: number;
}

/** The 24-byte file header (little-endian, microsecond timestamps). */
export function pcapFileHeader(linkType = LINKTYPE_RAW, snaplen = PCAP_SNAPLEN): Uint8Array {
  const b = new Uint8Array(FILE_HEADER);
  const v = new DataView(b.buffer);
  v.setUint32(0, MAGIC_MICROS, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, snaplen, true);
  v.setUint32(20, linkType, true);
  return b;
}

/** One record: 16-byte header and the packet (cut to the snap length). */
export function pcapRecord(timestampMicros: number, data: Uint8Array, snaplen = PCAP_SNAPLEN): Uint8Array {
  const kept = Math.min(data.length, snaplen);
  const b = new Uint8Array(RECORD_HEADER + kept);
  const v = new DataView(b.buffer);
  const t = Math.max(0, Math.floor(timestampMicros));
  v.setUint32(0, Math.floor(t / 1e6), true);
  v.setUint32(4, t % 1e6, true);
  v.setUint32(8, kept, true);
  v.setUint32(12, data.length, true);
  b.set(data.subarray(0, kept), RECORD_HEADER);
  return b;
}

/** A whole capture file in memory. */
export function emitPcap(records: readonly { timestampMicros: number; data: Uint8Array }[]): Uint8Array {
  const parts = [pcapFileHeader(), ...records.map((r) => pcapRecord(r.timestampMicros, r.data))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snaplen: number;
  readonly records: PcapRecord[];
}

/** Reads a classic pcap file in either byte order with micro- or nanosecond timestamps. */
export function parsePcap(buf: Uint8Array): Parsed<PcapFile> {
  const L = 'pcap';
  if (buf.length < FILE_HEADER) return fail(L, 'truncated', 'file header', 0, buf.length, '24 bytes');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicLE = v.getUint32(0, true);
  let le: boolean;
  let nanos: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nanos = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = v.getUint32(0, false);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) {
      return fail(
        L,
        'bad-value',
        'magic',
        0,
        `0x${magicLE.toString(16)}`,
        'a classic pcap magic (pcapng is not read)',
      );
    }
    le = false;
    nanos = magicBE === 0xa1b23c4d;
  }
  const snaplen = v.getUint32(16, le);
  const linkType = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let off = FILE_HEADER;
  while (off < buf.length) {
    if (off + RECORD_HEADER > buf.length)
      return fail(L, 'truncated', 'record header', off, buf.length - off, '16 bytes');
    const sec = v.getUint32(off, le);
    const frac = v.getUint32(off + 4, le);
    const incl = v.getUint32(off + 8, le);
    const orig = v.getUint32(off + 12, le);
    if (off + RECORD_HEADER + incl > buf.length) {
      return fail(
        L,
        'overrun',
        'record.inclLen',
        off + 8,
        incl,
        `at most ${buf.length - off - RECORD_HEADER}`,
      );
    }
    records.push({
      timestampMicros: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      data: buf.slice(off + RECORD_HEADER, off + RECORD_HEADER + incl),
      originalLength: orig,
    });
    off += RECORD_HEADER + incl;
  }
  return ok({ linkType, snaplen, records });
}
