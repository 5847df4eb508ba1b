/**
 * The real UdpPortFactory, on node:dgram. IPv6 sockets are `ipv6Only`, so an IPv4 datagram never
 * shows up on an IPv6 socket as a v4-mapped address: the two families are separate ports, as the
 * DSMIPv6 HA needs (IPv6 BUs over raw MH, IPv4 BUs over UDP 4191).
 */

import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Datagram, Family, UdpPort, UdpPortFactory } from './ports.js';

/** `[2001:db8::1]:4191` or `192.0.2.1:4191`, as the messages print endpoints. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A bind that failed: `udp: cannot bind [2001:db8::1]:4191: EADDRNOTAVAIL`. */
export class UdpBindError extends Error {
  override readonly name = 'UdpBindError';
  constructor(
    readonly address: string,
    readonly port: number,
    /** The errno name (EADDRNOTAVAIL, EADDRINUSE, EACCES, ...) or EINVAL for a bad argument. */
    readonly code: string,
    detail?: string,
  ) {
    super(`udp: cannot bind ${formatEndpoint(address, port)}: ${code}${detail ? ` (${detail})` : ''}`);
  }
}

/** A send that failed: `udp: cannot send to 192.0.2.1:4191: ENETUNREACH`. */
export class UdpSendError extends Error {
  override readonly name = 'UdpSendError';
  constructor(
    readonly address: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(`udp: cannot send to ${formatEndpoint(address, port)}: ${code}`);
  }
}

export interface UdpStats {
  readonly received: number;
  readonly sent: number;
  /** Datagrams that arrived while no receiver was registered. */
  readonly droppedNoReceiver: number;
  /** Socket errors after the bind (reported to `onError` when given). */
  readonly errors: number;
}

/** A UdpPort that also reports its counters (both implementations here are). */
export interface CountingUdpPort extends UdpPort {
  stats(): UdpStats;
}

export interface CountingUdpPortFactory extends UdpPortFactory {
  bind(family: Family, address: string, port: number): Promise<CountingUdpPort>;
}

/** The checks the bind arguments get before any socket exists (shared with the in-memory twin). */
export function checkBindArguments(family: Family, address: string, port: number): UdpBindError | undefined {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return new UdpBindError(address, port, 'EINVAL', 'port must be an integer 0-65535');
  if (family !== 4 && family !== 6) return new UdpBindError(address, port, 'EINVAL', 'family must be 4 or 6');
  if (isIP(address) !== family)
    return new UdpBindError(address, port, 'EINVAL', `family ${family} needs an IPv${family} address`);
  return undefined;
}

function errorCode(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.message : String(e);
}

class DgramUdpPort implements CountingUdpPort {
  private receiver: ((datagram: Datagram) => void) | undefined;
  private closed = false;
  private counters = { received: 0, sent: 0, droppedNoReceiver: 0, errors: 0 };

  constructor(
    readonly family: Family,
    private readonly socket: Socket,
    onError: ((error: Error) => void) | undefined,
  ) {
    socket.on('message', (msg, rinfo) => {
      this.counters.received++;
      const receiver = this.receiver;
      if (!receiver) {
        this.counters.droppedNoReceiver++;
        return;
      }
      // A copy: the caller owns it, and it is a plain Uint8Array, not a pooled Buffer.
      receiver({ data: new Uint8Array(msg), address: rinfo.address, port: rinfo.port });
    });
    // Without a listener an 'error' event would throw and end the process.
    socket.on('error', (e) => {
      this.counters.errors++;
      onError?.(e);
    });
  }

  local(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  send(datagram: Datagram): Promise<void> {
    const { data, address, port } = datagram;
    if (this.closed) return Promise.reject(new UdpSendError(address, port, 'ERR_SOCKET_DGRAM_NOT_RUNNING'));
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return new Promise((resolve, reject) => {
      try {
        this.socket.send(buf, port, address, (e) => {
          if (e) reject(new UdpSendError(address, port, errorCode(e)));
          else {
            this.counters.sent++;
            resolve();
          }
        });
      } catch (e) {
        // Synchronous argument errors (bad port, bad address) from dgram.
        reject(new UdpSendError(address, port, errorCode(e)));
      }
    });
  }

  onMessage(receiver: (datagram: Datagram) => void): void {
    this.receiver = receiver;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  stats(): UdpStats {
    return { ...this.counters };
  }
}

export interface DgramUdpOptions {
  /** Socket errors after the bind (the socket stays open; they are also counted). */
  readonly onError?: (error: Error) => void;
  /**
   * SO_RCVBUF / SO_SNDBUF in bytes (the kernel caps them at net.core.rmem_max / wmem_max). The
   * data plane asks for room for bursts of tunnelled packets; signalling alone needs no more
   * than the default.
   */
  readonly bufferBytes?: number;
}

/** The real factory: `udp4` for family 4, `udp6` with `ipv6Only` for family 6. */
export class DgramUdpPortFactory implements CountingUdpPortFactory {
  constructor(private readonly options: DgramUdpOptions = {}) {}

  bind(family: Family, address: string, port: number): Promise<CountingUdpPort> {
    const bad = checkBindArguments(family, address, port);
    if (bad) return Promise.reject(bad);
    const size = this.options.bufferBytes;
    const socket = createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      ipv6Only: family === 6,
      ...(size ? { recvBufferSize: size, sendBufferSize: size } : {}),
    });
    return new Promise((resolve, reject) => {
      const onBindError = (e: Error) => {
        try {
          socket.close();
        } catch {
          // Not running after the failed bind: nothing to close.
        }
        reject(new UdpBindError(address, port, errorCode(e)));
      };
      socket.once('error', onBindError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        resolve(new DgramUdpPort(family, socket, this.options.onError));
      });
    });
  }
}
