/**
 * The few libc calls the data plane makes through koffi (architecture.md, "Kernel facts"): the
 * TUN device and the raw tunnel sockets. Loaded on first use, so importing a module that uses it
 * never needs libc, root or Linux. Every call is synchronous and non-blocking (descriptors are
 * opened O_NONBLOCK); readiness comes from libuv poll handles (`koffi.node.poll`), so the event
 * loop never waits in the kernel.
 */

import koffi, { type node as KoffiNode } from 'koffi';

// Linux values (include/uapi/asm-generic/fcntl.h, socket.h, in.h, in6.h, if_tun.h).
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_RAW = 3;
export const SOCK_DGRAM = 2;
export const IPV6_V6ONLY = 26;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_RAW = 255;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_SNDBUF = 7;
export const SO_RCVBUFFORCE = 33;
export const SO_SNDBUFFORCE = 32;
export const SOL_IPV6 = 41;
export const IPV6_RECVTCLASS = 66;
export const TUNSETIFF = 0x400454ca;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
export const MSG_TRUNC = 0x20;

export interface Libc {
  open(path: string, flags: number): number;
  ioctl(fd: number, request: number, arg: Buffer): number;
  read(fd: number, buf: Uint8Array, length: number): number;
  write(fd: number, buf: Uint8Array, length: number): number;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  sendto(
    fd: number,
    buf: Uint8Array,
    length: number,
    flags: number,
    addr: Buffer,
    addrLength: number,
  ): number;
  recvfrom(
    fd: number,
    buf: Uint8Array,
    length: number,
    flags: number,
    addr: Buffer,
    addrLength: Buffer,
  ): number;
  /** recvmsg with a `struct msghdr` laid out by the caller (see `msghdr`). */
  recvmsg(fd: number, msg: Buffer, flags: number): number;
  bind(fd: number, addr: Buffer, addrLength: number): number;
  getsockname(fd: number, addr: Buffer, addrLength: Buffer): number;
  close(fd: number): number;
  /** errno of the last failed call, by name (EAGAIN, EPERM, ...). */
  errno(): string;
}

let cache: Libc | undefined;

export function libc(): Libc {
  if (cache) return cache;
  const lib = koffi.load('libc.so.6');
  const open = lib.func('int open(const char *, int, ...)');
  const ioctl = lib.func('int ioctl(int, unsigned long, ...)');
  const read = lib.func('intptr_t read(int, void *, size_t)');
  const write = lib.func('intptr_t write(int, const void *, size_t)');
  const socket = lib.func('int socket(int, int, int)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const sendto = lib.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)');
  const recvfrom = lib.func('intptr_t recvfrom(int, void *, size_t, int, void *, void *)');
  const recvmsg = lib.func('intptr_t recvmsg(int, void *, int)');
  const bind = lib.func('int bind(int, const void *, uint32_t)');
  const getsockname = lib.func('int getsockname(int, void *, void *)');
  const close = lib.func('int close(int)');
  cache = {
    open: (path, flags) => Number(open(path, flags)),
    ioctl: (fd, request, arg) => Number(ioctl(fd, request, 'void *', arg)),
    read: (fd, buf, length) => Number(read(fd, buf, length)),
    write: (fd, buf, length) => Number(write(fd, buf, length)),
    socket: (d, t, p) => Number(socket(d, t, p)),
    setsockopt: (fd, level, name, value, length) => Number(setsockopt(fd, level, name, value, length)),
    sendto: (fd, buf, length, flags, addr, addrLength) =>
      Number(sendto(fd, buf, length, flags, addr, addrLength)),
    recvfrom: (fd, buf, length, flags, addr, addrLength) =>
      Number(recvfrom(fd, buf, length, flags, addr, addrLength)),
    recvmsg: (fd, msg, flags) => Number(recvmsg(fd, msg, flags)),
    bind: (fd, addr, addrLength) => Number(bind(fd, addr, addrLength)),
    getsockname: (fd, addr, addrLength) => Number(getsockname(fd, addr, addrLength)),
    close: (fd) => Number(close(fd)),
    errno: () => errnoName(koffi.errno()),
  };
  return cache;
}

/** errno number → name (`1` → `EPERM`), from koffi's table of the platform's codes. */
export function errnoName(errno: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    // The first name wins where two share a value (EAGAIN and EWOULDBLOCK).
    for (const [name, value] of Object.entries(koffi.os.errno))
      if (!errnoNames.has(value)) errnoNames.set(value, name);
  }
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

let errnoNames: Map<number, string> | undefined;

/** A C `int` in host order, for setsockopt values and socklen_t in/out arguments. */
export function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  return b;
}

/**
 * SO_SNDBUF and SO_RCVBUF of `fd` to `bytes`, best effort: the FORCE variants (root or
 * CAP_NET_ADMIN) lift net.core.wmem_max / rmem_max; without them the plain ones are capped there.
 */
export function setSocketBuffers(fd: number, bytes: number): void {
  const c = libc();
  const size = int32(bytes);
  for (const [force, plain] of [
    [SO_SNDBUFFORCE, SO_SNDBUF],
    [SO_RCVBUFFORCE, SO_RCVBUF],
  ] as const)
    if (c.setsockopt(fd, SOL_SOCKET, force, size, 4) < 0) c.setsockopt(fd, SOL_SOCKET, plain, size, 4);
}

/** A libuv poll handle on `fd` calling `onReadable` whenever the descriptor has data. */
export function watchReadable(fd: number, onReadable: (status: number) => void): KoffiNode.PollHandle {
  // The d.ts declares the callback as (events); koffi calls it with (status, events).
  return koffi.node.poll(fd, { readable: true }, ((status: unknown) => {
    onReadable(typeof status === 'number' ? status : 0);
  }) as (ev: KoffiNode.PollEvents) => void);
}

/** A sockaddr_in for `sendto` (family, port in network order, address). */
export function sockaddrIn(address: Uint8Array, port = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.set(address.subarray(0, 4), 4);
  return b;
}

/** A sockaddr_in6 for `sendto` (family, port, flow info 0, address, scope id). */
export function sockaddrIn6(address: Uint8Array, port = 0, scopeId = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b.set(address.subarray(0, 16), 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

/** The address of a Node buffer's bytes (they never move, so it can sit in a msghdr or iovec). */
export function bufferAddress(b: Uint8Array): bigint {
  return BigInt(koffi.address(b) as unknown as bigint);
}

/**
 * A `struct msghdr` (64-bit Linux layout) for one name buffer, one iovec and one control buffer,
 * encoded once; `reset` restores the in/out lengths before each recvmsg.
 */
export class MsgHdr {
  /** name(8) namelen(4)+pad(4) iov(8) iovlen(8) control(8) controllen(8) flags(4)+pad(4). */
  readonly raw = Buffer.alloc(56);
  private readonly iovec = Buffer.alloc(16);
  constructor(
    readonly name: Buffer,
    data: Buffer,
    readonly control: Buffer,
  ) {
    this.iovec.writeBigUInt64LE(bufferAddress(data), 0);
    this.iovec.writeBigUInt64LE(BigInt(data.length), 8);
    this.raw.writeBigUInt64LE(bufferAddress(name), 0);
    this.raw.writeBigUInt64LE(bufferAddress(this.iovec), 16);
    this.raw.writeBigUInt64LE(1n, 24);
    this.raw.writeBigUInt64LE(bufferAddress(control), 32);
  }
  reset(): void {
    this.raw.writeUInt32LE(this.name.length, 8);
    this.raw.writeBigUInt64LE(BigInt(this.control.length), 40);
    this.raw.writeInt32LE(0, 48);
  }
  controlLength(): number {
    return Number(this.raw.readBigUInt64LE(40));
  }
  flags(): number {
    return this.raw.readInt32LE(48);
  }
}
