/**
 * The raw IPv6 port, in two ways:
 * - pure parts (errno → message, cmsg parsing, packet rebuilding) without root;
 * - over a real veth between two throwaway network namespaces (root): the sender runs in namespace
 *   A and the receiver in namespace B, each a child Node process importing dist/ (a raw socket
 *   belongs to the namespace of the process that opens it); tshark captures namespace B's end of
 *   the veth as an independent witness of what went over the wire.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  errnoName,
  parseIpv6ControlMessages,
  RawIpv6Error,
  RawIpv6Port,
  rawIpv6ErrorMessage,
  rebuildIpv6Packet,
  receivedHeader,
} from '../../src/net/raw-ipv6.js';
import { ipv6, ipv6TextToBytes } from '../../src/wire/address.js';
import { emitIpv6, homeAddressOption, parseIpv6, routingHomeAddress } from '../../src/wire/ipv6.js';
import { requireRoot } from '../support/root.js';

const DIST = resolve(import.meta.dirname, '../../dist');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const A_ADDR = ipv6('2001:db8:ff::1');
const B_ADDR = ipv6('2001:db8:ff::2');
const HOA = ipv6('2001:db8:1::100');
/** ESP-looking payload: SPI 0x1234, sequence 7, then opaque bytes. */
const ESP = new Uint8Array([0, 0, 0x12, 0x34, 0, 0, 0, 7, ...Array.from({ length: 24 }, (_, i) => i)]);

/** Non-default Traffic Class, Flow Label and Hop Limit: they must survive the trip unchanged. */
const fields = { dscp: 10, ecn: 1, flowLabel: 0x12345, hopLimit: 42, src: A_ADDR, dst: B_ADDR, protocol: 50 };
const BU = emitIpv6(
  {
    ...fields,
    extensions: [{ kind: 'destinationOptions', options: [{ kind: 'homeAddress', address: HOA }] }],
  },
  ESP,
);
const BA = emitIpv6({ ...fields, extensions: [{ kind: 'routingType2', homeAddress: HOA }] }, ESP);
const PLAIN = emitIpv6({ ...fields, dscp: 0, ecn: 0, flowLabel: 0, extensions: [] }, ESP);

describe('raw IPv6 port: pure parts', () => {
  it('names what socket() needs when it is refused', () => {
    expect(rawIpv6ErrorMessage('socket', 'EPERM')).toBe('raw IPv6 socket: EPERM (needs root or CAP_NET_RAW)');
    expect(rawIpv6ErrorMessage('socket', 'EACCES')).toBe(
      'raw IPv6 socket: EACCES (needs root or CAP_NET_RAW)',
    );
    expect(rawIpv6ErrorMessage('sendto', 'ENETUNREACH', '2001:db8::1')).toBe(
      'raw IPv6 sendto 2001:db8::1: ENETUNREACH',
    );
    const e = new RawIpv6Error('socket', 'EPERM');
    expect([e.name, e.operation, e.code, e.message]).toEqual([
      'RawIpv6Error',
      'socket',
      'EPERM',
      'raw IPv6 socket: EPERM (needs root or CAP_NET_RAW)',
    ]);
    expect([errnoName(1), errnoName(11), errnoName(13), errnoName(99999)]).toEqual([
      'EPERM',
      'EAGAIN',
      'EACCES',
      'errno 99999',
    ]);
  });

  it('reads IPV6_PKTINFO, HOPLIMIT, TCLASS and FLOWINFO cmsgs, skipping others', () => {
    const cmsg = (level: number, type: number, data: Uint8Array) => {
      const len = 16 + data.length;
      const b = Buffer.alloc(Math.ceil(len / 8) * 8);
      b.writeBigUInt64LE(BigInt(len), 0);
      b.writeInt32LE(level, 8);
      b.writeInt32LE(type, 12);
      b.set(data, 16);
      return b;
    };
    const int = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return b;
    };
    const pktinfo = Buffer.concat([Buffer.from(ipv6TextToBytes(B_ADDR)!), int(7)]);
    const flow = Buffer.alloc(4);
    flow.writeUInt32BE(0x02912345);
    const control = Buffer.concat([
      cmsg(0, 1, int(5)), // SOL_SOCKET: not ours
      cmsg(41, 50, pktinfo),
      cmsg(41, 52, int(42)),
      cmsg(41, 67, int(0x29)),
      cmsg(41, 11, flow),
    ]);
    const info = parseIpv6ControlMessages(control, 8, true);
    expect(info).toEqual({
      dst: new Uint8Array(ipv6TextToBytes(B_ADDR)!),
      ifindex: 7,
      hopLimit: 42,
      trafficClass: 0x29,
      flowInfo: 0x02912345,
    });
    // A truncated buffer stops the walk instead of reading past it.
    expect(parseIpv6ControlMessages(control.subarray(0, 30), 8, true)).toEqual({});
  });

  it('rebuilds the whole packet from the data, the source and the cmsgs', () => {
    for (const packet of [BU, BA, PLAIN]) {
      const src = packet.subarray(8, 24);
      const info = {
        dst: packet.subarray(24, 40),
        hopLimit: 42,
        trafficClass: packet === PLAIN ? 0 : 0x29,
        ...(packet === PLAIN ? {} : { flowInfo: 0x02912345 }),
      };
      expect(hex(rebuildIpv6Packet(receivedHeader(src, info, packet[6]!), packet.subarray(40)))).toBe(
        hex(packet),
      );
    }
    // Without cmsgs: hop limit 64, class and label 0, unspecified destination.
    const bare = parseIpv6(rebuildIpv6Packet(receivedHeader(BU.subarray(8, 24), {}, 60), BU.subarray(40)));
    expect(bare.ok && [bare.value.hopLimit, bare.value.dscp, bare.value.flowLabel, bare.value.dst]).toEqual([
      64,
      0,
      0,
      '::',
    ]);
    expect(() =>
      rebuildIpv6Packet(receivedHeader(BU.subarray(8, 24), {}, 60), new Uint8Array(65536)),
    ).toThrow(/EMSGSIZE/);
  });

  it('refuses receive protocols other than 60, 43 and 50 before opening anything', () => {
    expect(() => new RawIpv6Port({ receive: [135 as 60] })).toThrow(
      'raw IPv6 socket receive protocol 135 (expected 60, 43 or 50): EINVAL',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Over a veth between two namespaces

const NS_A = `dsm6raw-a-${process.pid}`;
const NS_B = `dsm6raw-b-${process.pid}`;
const VETH_A = `vra${process.pid}`;
const VETH_B = `vrb${process.pid}`;
const children: ChildProcess[] = [];
let tmp = '';

function sh(args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** A child Node process running an ES module script, in a namespace, speaking JSON lines. */
function node(ns: string, script: string, args: string[] = [], prefix: string[] = []) {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, ...prefix, process.execPath, '--input-type=module', '-e', script, ...args],
    { env: { ...process.env, DIST }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  /** The first line with `key`, waiting up to `ms`. */
  const line = async (key: string, ms = 5000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = lines.find((l) => key in l);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no "${key}" line from child; stderr: ${stderr}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { child, lines, line, exited, stderr: () => stderr };
}

const RECEIVER = `
const { RawIpv6Port } = await import(process.env.DIST + '/net/raw-ipv6.js');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const port = new RawIpv6Port({ receive: [60, 43, 50], onError: (e) => out({ error: e.message }) });
port.onPacket((p) => out({ packet: Buffer.from(p).toString('hex') }));
// Ticks prove that waiting for packets leaves the event loop free.
let ticks = 0;
const timer = setInterval(() => ticks++, 10);
process.stdin.on('data', async () => {
  const start = performance.now();
  await port.close();
  const closedMs = performance.now() - start;
  clearInterval(timer);
  process.stdin.destroy();
  out({ closed: closedMs, ticks, stats: port.stats() });
  // Nothing is left to keep the process alive: it exits by itself.
});
out({ ready: true });
`;

const SENDER = `
const { RawIpv6Port } = await import(process.env.DIST + '/net/raw-ipv6.js');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
try {
  const port = new RawIpv6Port();
  for (const h of process.argv.slice(1)) await port.send(Buffer.from(h, 'hex'));
  out({ sent: port.stats().sent });
  await port.close();
} catch (e) {
  out({ error: e.message, code: e.code });
}
`;

/** Ethernet frames' IP packets from a classic pcap file (link type 1). */
function pcapPackets(file: string): Uint8Array[] {
  const b = readFileSync(file);
  const packets: Uint8Array[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const caplen = b.readUInt32LE(off + 8);
    packets.push(new Uint8Array(b.subarray(off + 16 + 14, off + 16 + caplen)));
    off += 16 + caplen;
  }
  return packets;
}

describe('raw IPv6 port between two network namespaces', () => {
  beforeAll(() => {
    if (process.getuid?.() !== 0) return; // each test calls requireRoot and fails
    tmp = mkdtempSync(join(tmpdir(), 'dsmip6-raw-'));
    sh(['ip', 'netns', 'add', NS_A]);
    sh(['ip', 'netns', 'add', NS_B]);
    sh(['ip', 'link', 'add', VETH_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', VETH_B, 'netns', NS_B]);
    for (const [ns, dev, addr] of [
      [NS_A, VETH_A, A_ADDR],
      [NS_B, VETH_B, B_ADDR],
    ] as const) {
      sh(['ip', '-n', ns, 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad']);
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('sends our headers unchanged and receives BU (HAO), BA (RH2) and plain ESP as whole packets', async () => {
    requireRoot();
    const pcap = join(tmp, 'vb.pcap');
    const tshark = spawn(
      'ip',
      ['netns', 'exec', NS_B, 'tshark', '-n', '-q', '-i', VETH_B, '-F', 'pcap', '-w', pcap],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(tshark);
    await new Promise<void>((ready, failed) => {
      let err = '';
      tshark.stderr.on('data', (d) => {
        err += d;
        if (err.includes('Capturing on')) ready();
      });
      tshark.on('exit', () => failed(new Error(`tshark: ${err}`)));
    });
    const receiver = node(NS_B, RECEIVER);
    await receiver.line('ready');
    const sender = node(NS_A, SENDER, [hex(BU), hex(BA), hex(PLAIN)]);
    expect(await sender.line('sent')).toEqual({ sent: 3 });
    await sender.exited;

    const deadline = Date.now() + 5000;
    while (receiver.lines.filter((l) => 'packet' in l).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const got = receiver.lines.filter((l) => 'packet' in l).map((l) => l.packet);
    // Byte for byte: Traffic Class, Flow Label and Hop Limit (from the cmsgs) included.
    expect(got).toEqual([hex(BU), hex(BA), hex(PLAIN)]);
    const [bu, ba, plain] = got.map((h) => parseIpv6(Buffer.from(h as string, 'hex')));
    expect(bu?.ok && [bu.value.src, bu.value.dst, homeAddressOption(bu.value), bu.value.protocol]).toEqual([
      A_ADDR,
      B_ADDR,
      HOA,
      50,
    ]);
    expect(bu?.ok && hex(bu.value.payload)).toBe(hex(ESP));
    expect(ba?.ok && [routingHomeAddress(ba.value), hex(ba.value.payload)]).toEqual([HOA, hex(ESP)]);
    expect(plain?.ok && [plain.value.extensions, plain.value.protocol, hex(plain.value.payload)]).toEqual([
      [],
      50,
      hex(ESP),
    ]);

    // Close: prompt, the event loop was free meanwhile, and the process then exits by itself.
    await new Promise((r) => setTimeout(r, 300));
    receiver.child.stdin?.write('close\n');
    const closed = await receiver.line('closed');
    expect(closed.closed as number).toBeLessThan(100);
    expect(closed.ticks as number).toBeGreaterThan(15);
    expect(closed.stats).toEqual({ sent: 0, received: 3, droppedNoReceiver: 0, errors: 0 });
    const exitedIn = await Promise.race([
      receiver.exited.then(() => 'exited'),
      new Promise((r) => setTimeout(() => r('still running'), 2000)),
    ]);
    expect(exitedIn).toBe('exited');
    expect(receiver.lines.filter((l) => 'error' in l)).toEqual([]);

    // The wire, as tshark saw it: our three packets unchanged, and the kernel's ICMPv6 Parameter
    // Problem for the two it cannot process (code 2 for the HAO, code 0 for the RH2; RFC 8200
    // §4.2, §4.4). Plain ESP is taken by the raw socket, so no ICMP answers it.
    await new Promise((r) => setTimeout(r, 200));
    tshark.kill('SIGINT');
    await new Promise((r) => tshark.on('exit', r));
    const wire = pcapPackets(pcap).filter((p) => p[0]! >> 4 === 6);
    // Between our two addresses (MLD reports and ND go on too).
    const addresses = hex(BU.subarray(8, 40));
    const ours = wire.filter((p) => p[6] !== 58 && hex(p.subarray(8, 40)) === addresses).map(hex);
    expect(ours).toEqual([hex(BU), hex(BA), hex(PLAIN)]);
    const paramProblems = wire
      .filter((p) => p[6] === 58 && p[40] === 4)
      .map((p) => ({ code: p[41], invoking: hex(p.subarray(48)) }));
    expect(paramProblems).toEqual([
      { code: 2, invoking: hex(BU) },
      { code: 0, invoking: hex(BA) },
    ]);
  });

  it('a process without CAP_NET_RAW gets a clear EPERM', async () => {
    requireRoot();
    const sender = node(NS_A, SENDER, [], ['setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw']);
    expect(await sender.line('error')).toEqual({
      error: 'raw IPv6 socket: EPERM (needs root or CAP_NET_RAW)',
      code: 'EPERM',
    });
  });

  it('a send the kernel refuses rejects with the errno', async () => {
    requireRoot();
    // No route from namespace A to 2001:db8:77::1.
    const unroutable = hex(emitIpv6({ ...fields, dst: ipv6('2001:db8:77::1'), extensions: [] }, ESP));
    const sender = node(NS_A, SENDER, [unroutable]);
    expect(await sender.line('error')).toEqual({
      error: 'raw IPv6 sendto 2001:db8:77::1: ENETUNREACH',
      code: 'ENETUNREACH',
    });
  });
});
