/**
 * The real IpPacketPort for Mobile IPv6 signalling over native IPv6, on raw sockets through koffi
 * (architecture.md, "Kernel facts that shape the data plane").
 *
 * Send: one `socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)`. On Linux IPPROTO_RAW implies IPV6_HDRINCL
 * (getsockopt(IPV6_HDRINCL) reads 1 without setting it), so the kernel transmits the IPv6 header
 * and extension headers we built unchanged; `sendto` only names the destination for the route
 * lookup, and it is taken from the packet's own Destination Address.
 *
 * Receive: the kernel has no MIPv6, so it drops packets with a Home Address option (BU from a
 * care-of address: IPv6 / DestOpts(HAO) / ESP / MH) or a Type 2 Routing Header (BA to a care-of
 * address: IPv6 / RH2 / ESP / MH), answering ICMPv6 Parameter Problem, and it has no ESP, so
 * plain IPv6 / ESP / MH has no protocol handler either. A raw socket bound to the first Next
 * Header (60, 43 or 50) still gets a copy first, its data starting at that header: the IPv6
 * header itself is not given. So each received packet is rebuilt: source from recvmsg's
 * sockaddr_in6, destination from the IPV6_PKTINFO cmsg, Hop Limit from IPV6_HOPLIMIT, Traffic
 * Class from IPV6_TCLASS, Flow Label from IPV6_FLOWINFO (the kernel sends that cmsg only when
 * the flow info is non-zero, so its absence means 0), Next Header = the socket's protocol and
 * Payload Length = the data length. A Hop-by-Hop Options header, had there been one, is not in
 * the data (the kernel consumes it before raw delivery) and is not rebuilt.
 *
 * A packet is seen by the raw socket of the FIRST header after the IPv6 header (and by later
 * ones only if the kernel gets through the earlier headers, which it does not for HAO and RH2).
 * A packet like IPv6 / DestOpts(no HAO) / ESP reaches both a 60 and a 50 socket, so opening both
 * can deliver it twice; dsmip6's signalling never sends that shape.
 *
 * Receiving never blocks the event loop: every socket is non-blocking and watched by a libuv
 * poll handle (`koffi.node.poll`); when it turns readable, recvmsg runs until EAGAIN. close()
 * closes the poll handles and the descriptors at once; no callback runs after it.
 */

import { endianness } from 'node:os';
import type { node as KoffiNode } from 'koffi';
import { ipv6FromBytes } from '../wire/address.js';
import {
  AF_INET6,
  errnoName,
  IPPROTO_RAW,
  int32,
  libc,
  MSG_TRUNC,
  MsgHdr,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_IPV6,
  sockaddrIn6,
  watchReadable,
} from './libc.js';
import type { IpPacketPort } from './ports.js';

export { errnoName };

// Linux values (include/uapi/linux/in6.h, include/uapi/linux/ipv6.h, include/linux/socket.h).
const IPV6_FLOWINFO = 11;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const IPV6_RECVTCLASS = 66;
const IPV6_TCLASS = 67;
const MSG_CTRUNC = 0x08;

/** The first Next Header values dsmip6 listens for: Destination Options, Routing, ESP. */
export type RawReceiveProtocol = 60 | 43 | 50;

export const RAW_RECEIVE_PROTOCOLS: readonly RawReceiveProtocol[] = [60, 43, 50];

/** Hop Limit of a rebuilt packet when the kernel gave no IPV6_HOPLIMIT cmsg (it always does). */
export const DEFAULT_HOP_LIMIT = 64;

export type RawIpv6Operation = 'socket' | 'setsockopt' | 'sendto' | 'recvmsg' | 'poll' | 'packet';

/** A failure of the raw port: `raw IPv6 socket: EPERM (needs root or CAP_NET_RAW)`. */
export class RawIpv6Error extends Error {
  override readonly name = 'RawIpv6Error';
  constructor(
    readonly operation: RawIpv6Operation,
    /** The errno name (EPERM, ENETUNREACH, ...), or EINVAL / EMSGSIZE for a packet we refused. */
    readonly code: string,
    readonly detail?: string,
  ) {
    super(rawIpv6ErrorMessage(operation, code, detail));
  }
}

/** The message of a RawIpv6Error; EPERM/EACCES on socket() says what is missing. */
export function rawIpv6ErrorMessage(operation: RawIpv6Operation, code: string, detail?: string): string {
  const hint =
    operation === 'socket' && (code === 'EPERM' || code === 'EACCES') ? ' (needs root or CAP_NET_RAW)' : '';
  return `raw IPv6 ${operation}${detail ? ` ${detail}` : ''}: ${code}${hint}`;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (no sockets): the parts of receive that can be tested without root.

/** What the ancillary data of one recvmsg said about the packet's IPv6 header. */
export interface ReceivedHeaderInfo {
  /** The packet's Destination Address (IPV6_PKTINFO), 16 bytes. */
  dst?: Uint8Array;
  /** The arriving interface's index (IPV6_PKTINFO). */
  ifindex?: number;
  hopLimit?: number;
  trafficClass?: number;
  /** Traffic Class and Flow Label as the header's first word holds them (IPV6_FLOWINFO). */
  flowInfo?: number;
}

/**
 * Walks a cmsg buffer (`struct cmsghdr` with a size_t length, then level and type; data and
 * headers aligned to `wordSize`) and reads the IPv6 cmsgs the receive socket asks for. Integers
 * are in host order (`littleEndian`) except IPV6_FLOWINFO, which is network order.
 */
export function parseIpv6ControlMessages(
  control: Uint8Array,
  wordSize = 8,
  littleEndian = endianness() === 'LE',
): ReceivedHeaderInfo {
  const info: ReceivedHeaderInfo = {};
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const align = (n: number) => Math.ceil(n / wordSize) * wordSize;
  const headerLength = align(wordSize + 8);
  let off = 0;
  while (off + headerLength <= control.length) {
    const length =
      wordSize === 8 ? Number(view.getBigUint64(off, littleEndian)) : view.getUint32(off, littleEndian);
    if (length < headerLength || off + length > control.length) break;
    const level = view.getInt32(off + wordSize, littleEndian);
    const type = view.getInt32(off + wordSize + 4, littleEndian);
    const data = off + headerLength;
    const dataLength = length - headerLength;
    if (level === SOL_IPV6) {
      if (type === IPV6_PKTINFO && dataLength >= 20) {
        info.dst = new Uint8Array(control.subarray(data, data + 16));
        info.ifindex = view.getInt32(data + 16, littleEndian);
      } else if (type === IPV6_HOPLIMIT && dataLength >= 4) info.hopLimit = view.getInt32(data, littleEndian);
      else if (type === IPV6_TCLASS && dataLength >= 4) info.trafficClass = view.getInt32(data, littleEndian);
      else if (type === IPV6_FLOWINFO && dataLength >= 4) info.flowInfo = view.getUint32(data, false);
    }
    off += align(length);
  }
  return info;
}

/** The IPv6 header fields a rebuilt packet gets. */
export interface RebuiltHeader {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly hopLimit: number;
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** The Next Header: the raw socket's protocol, i.e. the header `data` starts with. */
  readonly nextHeader: number;
}

/**
 * A whole IPv6 packet from what a raw socket gave: a 40-byte header (Payload Length = the data's
 * length) followed by the data, which already is the extension header chain and upper layer.
 */
export function rebuildIpv6Packet(header: RebuiltHeader, data: Uint8Array): Uint8Array {
  if (data.length > 0xffff) throw new RawIpv6Error('packet', 'EMSGSIZE', `payload of ${data.length} bytes`);
  const buf = new Uint8Array(40 + data.length);
  const tc = header.trafficClass & 0xff;
  const flow = header.flowLabel & 0xfffff;
  buf[0] = 0x60 | (tc >> 4);
  buf[1] = ((tc & 0x0f) << 4) | (flow >> 16);
  buf[2] = (flow >> 8) & 0xff;
  buf[3] = flow & 0xff;
  buf[4] = data.length >> 8;
  buf[5] = data.length & 0xff;
  buf[6] = header.nextHeader;
  buf[7] = header.hopLimit;
  buf.set(header.src.subarray(0, 16), 8);
  buf.set(header.dst.subarray(0, 16), 24);
  buf.set(data, 40);
  return buf;
}

/** The IPv6 header fields of a received packet, from the sockaddr_in6 source and the cmsgs. */
export function receivedHeader(src: Uint8Array, info: ReceivedHeaderInfo, nextHeader: number): RebuiltHeader {
  const flowInfo = info.flowInfo ?? 0;
  return {
    src,
    dst: info.dst ?? new Uint8Array(16),
    hopLimit: info.hopLimit ?? DEFAULT_HOP_LIMIT,
    trafficClass: info.trafficClass ?? (flowInfo >>> 20) & 0xff,
    flowLabel: flowInfo & 0xfffff,
    nextHeader,
  };
}

const lastErrno = (): string => libc().errno();

// ---------------------------------------------------------------------------------------------
// The port

export interface RawIpv6PortOptions {
  /**
   * Which first Next Headers to receive: 60 (BUs with a Home Address option, at the HA), 43 (BAs
   * with a Type 2 Routing Header, at the MN), 50 (plain ESP, from home). Default none: send only.
   */
  readonly receive?: readonly RawReceiveProtocol[];
  /** Interface index for sending to a link-local destination (sin6_scope_id). Default 0. */
  readonly scopeId?: number;
  /** Receive-side failures (recvmsg errors, truncated packets, a throwing receiver). */
  readonly onError?: (error: Error) => void;
}

export interface RawIpv6Stats {
  readonly sent: number;
  readonly received: number;
  /** Packets that arrived while no receiver was registered. */
  readonly droppedNoReceiver: number;
  /** Packets dropped as truncated (larger than the receive buffer) and other receive errors. */
  readonly errors: number;
}

/** Largest IPv6 payload without a jumbogram: what a receive buffer has to hold. */
const MAX_PAYLOAD = 0xffff;
const CONTROL_SIZE = 256;
/** recvmsg calls per readable event before yielding to the event loop (level-triggered poll). */
const BURST = 64;

interface Receiver {
  readonly protocol: RawReceiveProtocol;
  readonly fd: number;
  readonly poll: KoffiNode.PollHandle;
}

export class RawIpv6Port implements IpPacketPort {
  private readonly sendFd: number;
  private readonly receivers: Receiver[] = [];
  private receiver: ((packet: Uint8Array) => void) | undefined;
  private closed = false;
  private counters = { sent: 0, received: 0, droppedNoReceiver: 0, errors: 0 };
  // recvmsg buffers: Node buffers never move, so the msghdr is laid out once.
  private readonly data = Buffer.alloc(MAX_PAYLOAD);
  private readonly msghdr = new MsgHdr(Buffer.alloc(28), this.data, Buffer.alloc(CONTROL_SIZE));
  private readonly onError: ((error: Error) => void) | undefined;
  private readonly scopeId: number;

  /** Opens the sockets; throws a RawIpv6Error (EPERM without CAP_NET_RAW). */
  constructor(options: RawIpv6PortOptions = {}) {
    this.onError = options.onError;
    this.scopeId = options.scopeId ?? 0;
    const protocols = [...new Set(options.receive ?? [])];
    for (const p of protocols)
      if (!RAW_RECEIVE_PROTOCOLS.includes(p))
        throw new RawIpv6Error('socket', 'EINVAL', `receive protocol ${p} (expected 60, 43 or 50)`);
    this.sendFd = this.open(IPPROTO_RAW);
    try {
      for (const protocol of protocols) this.listen(protocol);
    } catch (e) {
      this.closeAll();
      throw e;
    }
  }

  /** Sends a complete IPv6 packet to its own Destination Address, header untouched. */
  async send(packet: Uint8Array): Promise<void> {
    if (this.closed) throw new RawIpv6Error('sendto', 'EBADF', 'on a closed port');
    if (packet.length < 40 || packet[0]! >> 4 !== 6)
      throw new RawIpv6Error('sendto', 'EINVAL', `a ${packet.length}-byte packet that is not IPv6`);
    const dst = packet.subarray(24, 40);
    const addr = sockaddrIn6(dst, 0, this.scopeId);
    const n = libc().sendto(this.sendFd, packet, packet.length, 0, addr, addr.length);
    if (n < 0) throw new RawIpv6Error('sendto', lastErrno(), ipv6FromBytes(dst));
    this.counters.sent++;
  }

  /** Registers the receiver; packets that arrive before it is set are dropped and counted. */
  onPacket(receiver: (packet: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeAll();
  }

  stats(): RawIpv6Stats {
    return { ...this.counters };
  }

  private open(protocol: number): number {
    const fd = libc().socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) throw new RawIpv6Error('socket', lastErrno());
    return fd;
  }

  private listen(protocol: RawReceiveProtocol): void {
    const fd = this.open(protocol);
    const int1 = int32(1);
    for (const option of [IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_FLOWINFO]) {
      if (libc().setsockopt(fd, SOL_IPV6, option, int1, 4) < 0) {
        const code = lastErrno();
        libc().close(fd);
        throw new RawIpv6Error('setsockopt', code, `option ${option} on protocol ${protocol}`);
      }
    }
    const poll = watchReadable(fd, (status) => this.readable(protocol, fd, status));
    this.receivers.push({ protocol, fd, poll });
  }

  private readable(protocol: RawReceiveProtocol, fd: number, status: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.fail(new RawIpv6Error('poll', `uv status ${status}`, `protocol ${protocol}`));
      return;
    }
    for (let i = 0; i < BURST && !this.closed; i++) if (!this.receiveOne(protocol, fd)) return;
  }

  /** One recvmsg; false when the socket has nothing more (EAGAIN) or failed. */
  private receiveOne(protocol: RawReceiveProtocol, fd: number): boolean {
    const m = this.msghdr;
    m.reset();
    const n = libc().recvmsg(fd, m.raw, 0);
    if (n < 0) {
      const code = lastErrno();
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return code === 'EINTR';
      this.fail(new RawIpv6Error('recvmsg', code, `protocol ${protocol}`));
      return false;
    }
    const flags = m.flags();
    if (flags & MSG_TRUNC) {
      this.fail(new RawIpv6Error('recvmsg', 'EMSGSIZE', `protocol ${protocol}: packet truncated`));
      return true;
    }
    if (flags & MSG_CTRUNC) this.fail(new RawIpv6Error('recvmsg', 'ENOBUFS', 'cmsgs truncated'));
    const info = parseIpv6ControlMessages(m.control.subarray(0, m.controlLength()));
    // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16) scope(4).
    const src = new Uint8Array(m.name.subarray(8, 24));
    const packet = rebuildIpv6Packet(receivedHeader(src, info, protocol), this.data.subarray(0, n));
    this.counters.received++;
    const receiver = this.receiver;
    if (!receiver) {
      this.counters.droppedNoReceiver++;
      return true;
    }
    try {
      receiver(packet);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
    return true;
  }

  private fail(error: Error): void {
    this.counters.errors++;
    this.onError?.(error);
  }

  private closeAll(): void {
    for (const r of this.receivers.splice(0)) {
      r.poll.close();
      libc().close(r.fd);
    }
    if (this.sendFd >= 0) libc().close(this.sendFd);
  }
}
