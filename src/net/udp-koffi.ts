/**
 * A UdpPortFactory on plain non-blocking sockets through koffi, for a daemon whose UDP socket
 * carries tunnelled data (RFC 5555 §4.1: port 4191 carries signalling and data alike). node:dgram
 * costs an event, a pooled Buffer, an rinfo object and a copy per datagram; here a readable socket
 * is drained with recvfrom into one buffer, the peer's address text is reused while it repeats
 * (a tunnel has one peer), and sends are synchronous sendto calls. Same contract as the dgram
 * port (src/net/udp.ts): IPv6 sockets are IPv6-only, the receiver owns the bytes it gets.
 */

import type { node as KoffiNode } from 'koffi';
import { ipv4FromBytes, ipv4TextToBytes, ipv6FromBytes, ipv6TextToBytes } from '../wire/address.js';
import {
  AF_INET,
  AF_INET6,
  IPV6_V6ONLY,
  int32,
  libc,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_IPV6,
  setSocketBuffers,
  sockaddrIn,
  sockaddrIn6,
  watchReadable,
} from './libc.js';
import type { Datagram, Family } from './ports.js';
import {
  type CountingUdpPort,
  type CountingUdpPortFactory,
  checkBindArguments,
  UdpBindError,
  UdpSendError,
  type UdpStats,
} from './udp.js';

const MAX_DATAGRAM = 0xffff;
const BURST = 128;

export interface KoffiUdpOptions {
  readonly onError?: (error: Error) => void;
  /** SO_RCVBUF / SO_SNDBUF in bytes; as root the FORCE variants lift net.core.*mem_max. */
  readonly bufferBytes?: number;
}

export class KoffiUdpPortFactory implements CountingUdpPortFactory {
  constructor(private readonly options: KoffiUdpOptions = {}) {}

  async bind(family: Family, address: string, port: number): Promise<CountingUdpPort> {
    const bad = checkBindArguments(family, address, port);
    if (bad) throw bad;
    const c = libc();
    const fd = c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new UdpBindError(address, port, c.errno());
    if (family === 6) c.setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, int32(1), 4);
    if (this.options.bufferBytes) setSocketBuffers(fd, this.options.bufferBytes);
    const sa =
      family === 4
        ? sockaddrIn(ipv4TextToBytes(address)!, port)
        : sockaddrIn6(ipv6TextToBytes(address)!, port);
    if (c.bind(fd, sa, sa.length) < 0) {
      const code = c.errno();
      c.close(fd);
      throw new UdpBindError(address, port, code);
    }
    const name = Buffer.alloc(28);
    const nameLength = int32(name.length);
    c.getsockname(fd, name, nameLength);
    return new KoffiUdpPort(family, fd, { address, port: name.readUInt16BE(2) }, this.options.onError);
  }
}

class KoffiUdpPort implements CountingUdpPort {
  private receiver: ((datagram: Datagram) => void) | undefined;
  private closed = false;
  private readonly poll: KoffiNode.PollHandle;
  private readonly buffer = Buffer.allocUnsafe(MAX_DATAGRAM);
  private readonly from = Buffer.alloc(28);
  private readonly fromLength = Buffer.alloc(4);
  /** The last peer seen, as bytes and as text: a tunnel has one peer, so the text is reused. */
  private lastPeer = { key: '', address: '' };
  private readonly sendTo = new Map<string, Buffer>();
  private counters = { received: 0, sent: 0, droppedNoReceiver: 0, errors: 0 };

  constructor(
    readonly family: Family,
    private readonly fd: number,
    private readonly bound: { address: string; port: number },
    private readonly onError: ((error: Error) => void) | undefined,
  ) {
    this.poll = watchReadable(fd, (status) => {
      if (this.closed) return;
      if (status < 0) this.fail(new Error(`udp ${bound.address}:${bound.port}: poll: uv status ${status}`));
      else this.drain();
    });
  }

  local(): { address: string; port: number } {
    return { ...this.bound };
  }

  send(datagram: Datagram): Promise<void> {
    const { data, address, port } = datagram;
    if (this.closed) return Promise.reject(new UdpSendError(address, port, 'ERR_SOCKET_DGRAM_NOT_RUNNING'));
    const key = `${address} ${port}`;
    let sa = this.sendTo.get(key);
    if (!sa) {
      const bytes = this.family === 4 ? ipv4TextToBytes(address) : ipv6TextToBytes(address);
      if (!bytes || !Number.isInteger(port) || port < 1 || port > 65535)
        return Promise.reject(new UdpSendError(address, port, 'EINVAL'));
      sa = this.family === 4 ? sockaddrIn(bytes, port) : sockaddrIn6(bytes, port);
      // Peers are few (the HA, or each MN's NAT mapping); bound the cache all the same.
      if (this.sendTo.size > 4096) this.sendTo.clear();
      this.sendTo.set(key, sa);
    }
    const c = libc();
    if (c.sendto(this.fd, data, data.length, 0, sa, sa.length) < 0)
      return Promise.reject(new UdpSendError(address, port, c.errno()));
    this.counters.sent++;
    return Promise.resolve();
  }

  onMessage(receiver: (datagram: Datagram) => void): void {
    this.receiver = receiver;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poll.close();
    libc().close(this.fd);
  }

  stats(): UdpStats {
    return { ...this.counters };
  }

  private drain(): void {
    const c = libc();
    for (let i = 0; i < BURST && !this.closed; i++) {
      this.fromLength.writeUInt32LE(this.from.length);
      const n = c.recvfrom(this.fd, this.buffer, this.buffer.length, 0, this.from, this.fromLength);
      if (n < 0) {
        const code = c.errno();
        if (code !== 'EAGAIN' && code !== 'EINTR') this.fail(new Error(`udp recvfrom: ${code}`));
        return;
      }
      this.counters.received++;
      const receiver = this.receiver;
      if (!receiver) {
        this.counters.droppedNoReceiver++;
        continue;
      }
      const port = this.from.readUInt16BE(2);
      try {
        // A copy: the receiver owns it (the buffer is reused for the next datagram).
        receiver({ data: new Uint8Array(this.buffer.subarray(0, n)), address: this.peerAddress(), port });
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** The sender's address text, formatted only when it changes. */
  private peerAddress(): string {
    const bytes = this.family === 4 ? this.from.subarray(4, 8) : this.from.subarray(8, 24);
    const key = bytes.toString('latin1');
    if (key !== this.lastPeer.key)
      this.lastPeer = { key, address: this.family === 4 ? ipv4FromBytes(bytes) : ipv6FromBytes(bytes) };
    return this.lastPeer.address;
  }

  private fail(error: Error): void {
    this.counters.errors++;
    this.onError?.(error);
  }
}
