/**
 * The real DnsPort, on node:dns/promises `Resolver` (c-ares). Only DNS is asked: `resolve4`,
 * `resolve6` and `resolveSrv` never read /etc/hosts.
 */

import { Resolver } from 'node:dns/promises';
import type { DnsAnswer, DnsPort, DnsRecordType } from './ports.js';

/**
 * c-ares does not report the TTL of SRV records, so an SRV answer carries this one (seconds): the
 * common zone-file default, and short enough that a renumbered HA is found again within minutes.
 */
export const SRV_DEFAULT_TTL_SECONDS = 300;

export interface NodeDnsOptions {
  /**
   * Servers as `dns.setServers` takes them: `'192.0.2.53'`, `'192.0.2.53:5353'`, `'2001:db8::53'`,
   * `'[2001:db8::53]:5353'`. Without it, the system's resolv.conf servers.
   */
  readonly servers?: readonly string[];
  /** Per-try timeout in ms (c-ares doubles it on each retry). Default 2000. */
  readonly timeoutMs?: number;
  /** Tries per server. Default 2. */
  readonly tries?: number;
  /** TTL to report for SRV answers. Default SRV_DEFAULT_TTL_SECONDS. */
  readonly srvTtlSeconds?: number;
}

/**
 * The reason for a failed query. The common outcomes get names the HA-discovery machine can read
 * (`NXDOMAIN`, `NODATA`, `timeout`, `refused`); anything else is the c-ares code (`ESERVFAIL`, ...).
 */
export function dnsFailureReason(e: unknown): string {
  const code = e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  switch (code) {
    case 'ENOTFOUND':
      return 'NXDOMAIN';
    case 'ENODATA':
      return 'NODATA';
    case 'ETIMEOUT':
      return 'timeout';
    // ECONNREFUSED: ICMP port unreachable from the server's host; EREFUSED: the server's REFUSED.
    case 'ECONNREFUSED':
    case 'EREFUSED':
      return 'refused';
    case undefined:
      return e instanceof Error ? e.message : String(e);
    default:
      return code;
  }
}

const minTtl = (ttls: number[]) => (ttls.length ? Math.min(...ttls) : 0);

export class NodeDnsPort implements DnsPort {
  private readonly resolver: Resolver;
  private readonly srvTtl: number;

  /** Throws (from `setServers`) when a server string is malformed: a configuration error. */
  constructor(options: NodeDnsOptions = {}) {
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers) this.resolver.setServers([...options.servers]);
    this.srvTtl = options.srvTtlSeconds ?? SRV_DEFAULT_TTL_SECONDS;
  }

  async resolve(name: string, type: DnsRecordType): Promise<DnsAnswer> {
    try {
      switch (type) {
        case 'A':
        case 'AAAA': {
          const records =
            type === 'A'
              ? await this.resolver.resolve4(name, { ttl: true })
              : await this.resolver.resolve6(name, { ttl: true });
          return {
            ok: true,
            ttlSeconds: minTtl(records.map((r) => r.ttl)),
            addresses: records.map((r) => r.address),
          };
        }
        case 'SRV': {
          const records = await this.resolver.resolveSrv(name);
          return {
            ok: true,
            ttlSeconds: this.srvTtl,
            srv: records.map((r) => ({
              priority: r.priority,
              weight: r.weight,
              port: r.port,
              target: r.name,
            })),
          };
        }
        default:
          return { ok: false, reason: `unsupported record type ${String(type)}` };
      }
    } catch (e) {
      return { ok: false, reason: dnsFailureReason(e) };
    }
  }

  /** Cancels every outstanding query (each then answers `{ ok: false, reason: 'ECANCELLED' }`). */
  cancel(): void {
    this.resolver.cancel();
  }
}
