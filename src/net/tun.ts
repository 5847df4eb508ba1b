/**
 * A TUN device through koffi (architecture.md, "Kernel facts"): `/dev/net/tun` opened
 * non-blocking, `ioctl(TUNSETIFF)` with IFF_TUN | IFF_NO_PI, so every read is one whole IPv4 or
 * IPv6 packet the kernel routed into the device and every write hands one to the kernel's stack as
 * if it had arrived on that interface. Configuring the device (up, MTU, addresses, routes) is the
 * `ip` command's job (src/net/ip-config.ts); this module only moves packets.
 *
 * Packets are read into one reused buffer at an offset of TUN_HEADROOM bytes, so a receiver can
 * write the outer tunnel header in front of the packet and send the result without a copy (the
 * wireguard-go layout). The view given to a receiver is valid only until it returns.
 */

import type { node as KoffiNode } from 'koffi';
import { IFF_NO_PI, IFF_TUN, libc, O_CLOEXEC, O_NONBLOCK, O_RDWR, TUNSETIFF, watchReadable } from './libc.js';

/** Writable bytes before every received packet: room for the largest outer header (IPv6 + UDP). */
export const TUN_HEADROOM = 64;
/** Largest packet a TUN read returns (IPv4 total length / IPv6 payload length are 16-bit). */
const MAX_PACKET = 0xffff + 40;
/** reads per readable event before yielding to the event loop (the poll is level-triggered). */
const BURST = 128;
const IFNAMSIZ = 16;

/** Whole IP packets in and out of a network interface the daemon owns. */
export interface TunPort {
  /** The interface name the kernel gave. */
  readonly name: string;
  /** Hands one IPv4 or IPv6 packet to the kernel; false when the kernel refused it (counted). */
  write(packet: Uint8Array): boolean;
  /**
   * Registers the receiver of packets the kernel routes into the device. The view is valid only
   * during the call and has TUN_HEADROOM writable bytes before it in its buffer.
   */
  onPacket(receiver: (packet: Uint8Array) => void): void;
  close(): Promise<void>;
}

export interface TunStats {
  readonly received: number;
  readonly written: number;
  /** Writes the kernel refused (EAGAIN on a full queue, EINVAL for a malformed packet, ...). */
  readonly writeErrors: number;
  readonly readErrors: number;
}

/** A TUN failure naming the device and the errno: `TUN dsm6ha: ioctl(TUNSETIFF): EPERM (needs root…)`. */
export class TunError extends Error {
  override readonly name = 'TunError';
  constructor(
    readonly device: string,
    readonly operation: string,
    readonly code: string,
  ) {
    super(
      `TUN ${device}: ${operation}: ${code}${code === 'EPERM' || code === 'EACCES' ? ' (needs root or CAP_NET_ADMIN)' : ''}${code === 'ENOENT' ? ' (no /dev/net/tun: load the tun module)' : ''}`,
    );
  }
}

/** Checks an interface name the way the kernel will (1-15 bytes, no '/', ':' or whitespace). */
export function tunNameError(name: string): string | undefined {
  if (name.length === 0 || Buffer.byteLength(name) >= IFNAMSIZ) return 'must be 1-15 bytes long';
  if (/[/:\s]/.test(name)) return "must not contain '/', ':' or whitespace";
  return undefined;
}

export class TunDevice implements TunPort {
  readonly name: string;
  private readonly fd: number;
  private readonly poll: KoffiNode.PollHandle;
  private readonly buffer = Buffer.allocUnsafe(TUN_HEADROOM + MAX_PACKET);
  private readonly readView = this.buffer.subarray(TUN_HEADROOM);
  private receiver: ((packet: Uint8Array) => void) | undefined;
  private closed = false;
  private counters = { received: 0, written: 0, writeErrors: 0, readErrors: 0 };

  /** Creates (or attaches to) the TUN device `name`; throws a TunError. */
  constructor(name: string, onError?: (error: Error) => void) {
    const bad = tunNameError(name);
    if (bad) throw new TypeError(`TUN device name ${JSON.stringify(name)}: ${bad}`);
    const c = libc();
    const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw new TunError(name, 'open /dev/net/tun', c.errno());
    const ifreq = Buffer.alloc(40);
    ifreq.write(name, 0, 'utf8');
    ifreq.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFNAMSIZ);
    if (c.ioctl(fd, TUNSETIFF, ifreq) < 0) {
      const code = c.errno();
      c.close(fd);
      throw new TunError(name, 'ioctl(TUNSETIFF)', code);
    }
    this.fd = fd;
    this.name = ifreq.toString('utf8', 0, ifreq.indexOf(0) >= 0 ? ifreq.indexOf(0) : IFNAMSIZ);
    this.poll = watchReadable(fd, (status) => {
      if (this.closed) return;
      if (status < 0) {
        this.counters.readErrors++;
        onError?.(new TunError(this.name, 'poll', `uv status ${status}`));
        return;
      }
      this.drain(onError);
    });
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    const n = libc().write(this.fd, packet, packet.length);
    if (n !== packet.length) {
      this.counters.writeErrors++;
      return false;
    }
    this.counters.written++;
    return true;
  }

  onPacket(receiver: (packet: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poll.close();
    libc().close(this.fd);
  }

  stats(): TunStats {
    return { ...this.counters };
  }

  private drain(onError?: (error: Error) => void): void {
    const c = libc();
    for (let i = 0; i < BURST && !this.closed; i++) {
      const n = c.read(this.fd, this.readView, MAX_PACKET);
      if (n < 0) {
        const code = c.errno();
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return;
        if (code === 'EINTR') continue;
        this.counters.readErrors++;
        onError?.(new TunError(this.name, 'read', code));
        return;
      }
      this.counters.received++;
      const receiver = this.receiver;
      if (!receiver || n === 0) continue;
      try {
        receiver(this.readView.subarray(0, n));
      } catch (e) {
        this.counters.readErrors++;
        onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}
