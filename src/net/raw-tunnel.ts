/**
 * Raw sockets for the IP-in-IP tunnels of RFC 5555 §4.1 (architecture.md, "Kernel facts": there
 * are no sit / ipip / ip6_tunnel drivers, so the tunnel endpoints live in userspace).
 *
 * Send: `socket(AF_INET, SOCK_RAW, IPPROTO_RAW)` and `socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)`
 * transmit a whole packet whose header we built (IP_HDRINCL / IPV6_HDRINCL are implied by
 * IPPROTO_RAW on Linux), so the outer DSCP/ECN, TTL and, for UDP encapsulation, the ports are ours.
 * The IPv4 kernel path still fills the header checksum and, when zero, the Identification.
 *
 * Receive: raw sockets bound to protocol 4 (IPv4 inside) and 41 (IPv6 inside), per outer family.
 * An IPv4 raw socket gets the whole packet, outer header included; an IPv6 one gets the payload
 * only (the inner packet), with the outer source from recvmsg's address and the Traffic Class
 * from the IPV6_TCLASS cmsg. The kernel has no handler for these protocols, but a raw socket that
 * took the packet keeps it from answering with ICMP Protocol Unreachable / Parameter Problem.
 */

import type { node as KoffiNode } from 'koffi';
import {
  AF_INET,
  AF_INET6,
  IPPROTO_RAW,
  IPV6_RECVTCLASS,
  int32,
  libc,
  MsgHdr,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_IPV6,
  setSocketBuffers,
  watchReadable,
} from './libc.js';
import { parseIpv6ControlMessages } from './raw-ipv6.js';

/** An IP-in-IP packet as it arrived: the outer header's facts and the inner packet. */
export interface ReceivedTunnelPacket {
  readonly outerFamily: 4 | 6;
  /** Outer source address: 4 or 16 bytes. */
  readonly src: Uint8Array;
  /** Outer DSCP and ECN (IPv4 TOS / IPv6 Traffic Class). */
  readonly trafficClass: number;
  /** The inner packet (a view valid only during the receiver call). */
  readonly inner: Uint8Array;
}

/** Whole outer packets out; IP-in-IP packets (protocols 4 and 41) in. */
export interface TunnelSocketPort {
  /** Sends a complete IPv4 (or IPv6) packet to its own destination; false when the kernel refused it. */
  send4(packet: Uint8Array): boolean;
  send6(packet: Uint8Array): boolean;
  onPacket(receiver: (packet: ReceivedTunnelPacket) => void): void;
  close(): Promise<void>;
}

export class RawTunnelError extends Error {
  override readonly name = 'RawTunnelError';
  constructor(
    readonly operation: string,
    readonly code: string,
  ) {
    super(
      `raw tunnel socket ${operation}: ${code}${code === 'EPERM' || code === 'EACCES' ? ' (needs root or CAP_NET_RAW)' : ''}`,
    );
  }
}

const BURST = 128;
const MAX_PACKET = 0xffff + 40;
/** Socket buffers big enough for a burst of full-size packets (SO_*BUFFORCE needs CAP_NET_ADMIN). */
const SOCKET_BUFFER = 4 * 1024 * 1024;

interface Listener {
  readonly fd: number;
  readonly poll: KoffiNode.PollHandle;
}

export interface RawTunnelOptions {
  /** Outer families to receive on (default both). */
  readonly receive?: readonly (4 | 6)[];
  readonly onError?: (error: Error) => void;
}

export class RawTunnelSockets implements TunnelSocketPort {
  private readonly send4Fd: number;
  private readonly send6Fd: number;
  private readonly listeners: Listener[] = [];
  private receiver: ((packet: ReceivedTunnelPacket) => void) | undefined;
  private closed = false;
  private readonly buffer = Buffer.allocUnsafe(MAX_PACKET);
  private readonly msghdr = new MsgHdr(Buffer.alloc(28), this.buffer, Buffer.alloc(128));
  private readonly addr4 = Buffer.alloc(16);
  private readonly addr6 = Buffer.alloc(28);
  private readonly onError: ((error: Error) => void) | undefined;
  readonly counters = { sent: 0, sendErrors: 0, received: 0, receiveErrors: 0 };

  constructor(options: RawTunnelOptions = {}) {
    this.onError = options.onError;
    this.send4Fd = this.open(AF_INET, IPPROTO_RAW);
    try {
      this.send6Fd = this.open(AF_INET6, IPPROTO_RAW);
      for (const family of options.receive ?? [4, 6]) for (const proto of [4, 41]) this.listen(family, proto);
    } catch (e) {
      this.closeAll();
      throw e;
    }
  }

  send4(packet: Uint8Array): boolean {
    // sockaddr_in: only the destination matters (the route lookup); it is the packet's own.
    this.addr4.writeUInt16LE(AF_INET, 0);
    this.addr4.set(packet.subarray(16, 20), 4);
    return this.sendOn(this.send4Fd, packet, this.addr4);
  }

  send6(packet: Uint8Array): boolean {
    this.addr6.writeUInt16LE(AF_INET6, 0);
    this.addr6.set(packet.subarray(24, 40), 8);
    return this.sendOn(this.send6Fd, packet, this.addr6);
  }

  onPacket(receiver: (packet: ReceivedTunnelPacket) => void): void {
    this.receiver = receiver;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeAll();
  }

  private sendOn(fd: number, packet: Uint8Array, addr: Buffer): boolean {
    if (this.closed) return false;
    const c = libc();
    const n = c.sendto(fd, packet, packet.length, 0, addr, addr.length);
    if (n < 0) {
      this.counters.sendErrors++;
      return false;
    }
    this.counters.sent++;
    return true;
  }

  private open(family: number, protocol: number): number {
    const c = libc();
    const fd = c.socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
      throw new RawTunnelError(
        `socket(${family === AF_INET ? 'AF_INET' : 'AF_INET6'}, ${protocol})`,
        c.errno(),
      );
    setSocketBuffers(fd, SOCKET_BUFFER);
    return fd;
  }

  private listen(family: 4 | 6, protocol: number): void {
    const c = libc();
    const fd = this.open(family === 4 ? AF_INET : AF_INET6, protocol);
    if (family === 6) {
      if (c.setsockopt(fd, SOL_IPV6, IPV6_RECVTCLASS, int32(1), 4) < 0) {
        const code = c.errno();
        c.close(fd);
        throw new RawTunnelError('setsockopt(IPV6_RECVTCLASS)', code);
      }
    }
    const poll = watchReadable(fd, (status) => {
      if (this.closed) return;
      if (status < 0) this.fail(new RawTunnelError('poll', `uv status ${status}`));
      else if (family === 4) this.drain4(fd, protocol);
      else this.drain6(fd, protocol);
    });
    this.listeners.push({ fd, poll });
  }

  private drain4(fd: number, protocol: number): void {
    const c = libc();
    for (let i = 0; i < BURST && !this.closed; i++) {
      const n = c.read(fd, this.buffer, this.buffer.length);
      if (n < 0) {
        this.readFailed(c.errno());
        return;
      }
      const b = this.buffer;
      const ihl = (b[0]! & 0x0f) * 4;
      // The kernel checked the header; be total anyway: a short or foreign packet is an error.
      if (n < ihl + 1 || b[9] !== protocol) {
        this.counters.receiveErrors++;
        continue;
      }
      this.deliver({
        outerFamily: 4,
        src: b.subarray(12, 16),
        trafficClass: b[1]!,
        inner: b.subarray(ihl, n),
      });
    }
  }

  private drain6(fd: number, _protocol: number): void {
    const c = libc();
    for (let i = 0; i < BURST && !this.closed; i++) {
      const m = this.msghdr;
      m.reset();
      const n = c.recvmsg(fd, m.raw, 0);
      if (n < 0) {
        this.readFailed(c.errno());
        return;
      }
      const info = parseIpv6ControlMessages(m.control.subarray(0, m.controlLength()));
      this.deliver({
        outerFamily: 6,
        // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16) scope(4).
        src: m.name.subarray(8, 24),
        trafficClass: info.trafficClass ?? 0,
        inner: this.buffer.subarray(0, n),
      });
    }
  }

  private deliver(packet: ReceivedTunnelPacket): void {
    this.counters.received++;
    const receiver = this.receiver;
    if (!receiver) return;
    try {
      receiver(packet);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private readFailed(code: string): void {
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return;
    this.fail(new RawTunnelError('receive', code));
  }

  private fail(error: Error): void {
    this.counters.receiveErrors++;
    this.onError?.(error);
  }

  private closeAll(): void {
    const c = libc();
    for (const l of this.listeners.splice(0)) {
      l.poll.close();
      c.close(l.fd);
    }
    for (const fd of [this.send4Fd, this.send6Fd]) if (fd !== undefined && fd >= 0) c.close(fd);
  }
}
