/**
 * The home agent process's actor layer: the homeAgent supervisor (src/machines/home-agent.ts)
 * wired to ports. BUs arrive over UDP 4191 (IPv4-only networks, RFC 5555 §4.1) or as raw IPv6
 * packets (IPv6 care-of addresses); each is ESP-verified and handed over as `BU.RECEIVED`; the
 * supervisor's `sendBindingAck` effects go back the way the BU came (RFC 5555 §4.2, RFC 6275 §9.5.4).
 */

import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { isSignalling } from '../dataplane/packet.js';
import type { CareOf } from '../machines/binding-cache-entry.js';
import type { HaSendBindingAckParams, HomeAgentInput, HomeAgentReport } from '../machines/home-agent.js';
import type { Clock, Datagram, IpPacketPort, UdpPort, UdpPortFactory } from '../net/ports.js';
import { ipv6, ipv6TextToBytes, type MobilityPacketFields } from '../wire/index.js';
import type { MobilityCrypto } from './crypto.js';
import { createHomeAgentCore } from './home-agent-core.js';
import { bindingAckFor, buReceived } from './messages.js';

export interface HaRuntimeOptions {
  readonly input: HomeAgentInput;
  /** The HA's own addresses: IPv6 (signalling source, RFC 5555 §4.2) and IPv4 (UDP 4191). */
  readonly addresses: { readonly ipv6: string; readonly ipv4?: string };
  readonly udpPort: number;
  readonly crypto: MobilityCrypto;
  readonly udp: UdpPortFactory;
  /** Raw IPv6 for BUs from IPv6 care-of addresses; without it only UDP-encapsulated BUs work. */
  readonly ip?: IpPacketPort;
  readonly clock: Clock;
  readonly log: Logger;
  /** Every signalling packet in and out (for --pcap); UDP ones as the inner IPv6 packet. */
  readonly onPacket?: (direction: 'in' | 'out', packet: Uint8Array) => void;
  /** xstate's inspection observer (the live inspector's collector), given to the supervisor actor. */
  readonly inspect?: (event: InspectionEvent) => void;
  /**
   * Every change to the binding cache as the data plane needs it: the binding when it is
   * registered or refreshed, `undefined` when it is deleted (expired, deregistered, replaced).
   */
  readonly onBinding?: (homeAddress: string, binding: Binding | undefined) => void;
  /** UDP-encapsulated data (not signalling) arriving on port 4191: the data plane's, when there is one. */
  readonly onTunnelData?: (datagram: Datagram) => void;
}

export interface Binding {
  readonly homeAddress: string;
  readonly careOf: CareOf;
  readonly tunnel: string;
  readonly nat?: { address: string; port: number };
  /** Where UDP-tunnelled data goes (the NAT's mapping, or the MN itself with F): tunnel 'udp' only. */
  readonly udpEndpoint?: { address: string; port: number };
  readonly ipv4HomeAddress?: string;
  readonly lifetimeSeconds: number;
  readonly sequence: number;
  /** Clock time at which the binding runs out. */
  readonly expiresAt: number;
}

export interface HaCounters {
  buReceived: number;
  baSent: number;
  dropped: Record<string, number>;
}

export interface HaRuntime {
  bindings(): Binding[];
  counters(): HaCounters;
  /** Entries in the binding cache (registered or being deleted) and their pending timers. */
  bindingCache(): { entries: number; timers: number };
  /** Resolves when the supervisor fails (escalation) or the runtime stops. */
  readonly done: Promise<{ failed: boolean; reason?: string }>;
  stop(): Promise<void>;
}

export async function startHomeAgent(o: HaRuntimeOptions): Promise<HaRuntime> {
  const log = o.log.child({ actor: 'ha' });
  const counters: HaCounters = { buReceived: 0, baSent: 0, dropped: {} };
  const drop = (reason: string, detail: object = {}): void => {
    counters.dropped[reason] = (counters.dropped[reason] ?? 0) + 1;
    log.debug({ event: 'drop', reason, ...detail }, `dropped: ${reason}`);
  };
  const bindings = new Map<string, Binding>();
  let udp: UdpPort | undefined;
  let resolveDone: (v: { failed: boolean; reason?: string }) => void = () => {};
  const done = new Promise<{ failed: boolean; reason?: string }>((r) => {
    resolveDone = r;
  });

  const haAddress = ipv6(o.addresses.ipv6);
  const sendBindingAck = (p: HaSendBindingAckParams): void => {
    const message = bindingAckFor(p);
    const ha = haAddress;
    const hoa = ipv6(p.homeAddress);
    let fields: MobilityPacketFields;
    if (p.udp) {
      // RFC 5555 §4.2: inner IPv6 from the HA to the home address, in UDP to the observed source.
      fields = { src: ha, dst: hoa };
    } else if (p.careOf.family === 6 && p.careOf.address !== p.homeAddress) {
      // RFC 6275 §9.5.4, §6.4: to the care-of address with the home address in a Type 2 RH.
      fields = { src: ha, dst: ipv6(p.careOf.address), routingHomeAddress: hoa };
    } else {
      fields = { src: ha, dst: hoa };
    }
    let packet: Uint8Array;
    try {
      packet = o.crypto.seal(fields, message, p.homeAddress);
    } catch (e) {
      drop('no-outbound-sa', { hoa: p.homeAddress, error: (e as Error).message });
      return;
    }
    o.onPacket?.('out', packet);
    counters.baSent++;
    // At 20k BAs per second even building a log line that is then dropped costs.
    if (log.isLevelEnabled('info'))
      log.info(
        {
          event: 'ba.sent',
          hoa: p.homeAddress,
          status: p.status,
          sequence: p.sequence,
          lifetime: p.lifetimeSeconds,
        },
        `BA status ${p.status} seq ${p.sequence} to ${p.homeAddress}`,
      );
    if (p.udp) {
      udp?.send({ data: packet, address: p.udp.address, port: p.udp.port }).catch((e: Error) => {
        log.warn({ event: 'send.failed', error: e.message }, 'BA send failed');
      });
    } else if (o.ip) {
      o.ip
        .send(packet)
        .catch((e: Error) => log.warn({ event: 'send.failed', error: e.message }, 'BA send failed'));
    } else {
      drop('no-ipv6-port', { hoa: p.homeAddress });
    }
  };

  const onReport = (r: HomeAgentReport): void => {
    switch (r.type) {
      case 'HA.BINDING':
        if (r.status === 'registered') {
          const binding: Binding = {
            homeAddress: r.homeAddress,
            careOf: r.careOf,
            tunnel: r.tunnel,
            ...(r.nat ? { nat: r.nat } : {}),
            ...(r.udpEndpoint ? { udpEndpoint: r.udpEndpoint } : {}),
            ...(r.ipv4HomeAddress ? { ipv4HomeAddress: r.ipv4HomeAddress } : {}),
            lifetimeSeconds: r.lifetimeSeconds,
            sequence: r.sequence,
            expiresAt: o.clock.now() + r.lifetimeSeconds * 1000,
          };
          bindings.set(r.homeAddress, binding);
          o.onBinding?.(r.homeAddress, binding);
          if (log.isLevelEnabled('info'))
            log.info(
              {
                event: 'binding',
                hoa: r.homeAddress,
                coa: r.careOf.address,
                tunnel: r.tunnel,
                nat: r.nat ?? null,
              },
              `binding ${r.homeAddress} -> ${r.careOf.address} (${r.tunnel}${r.nat ? `, NAT ${r.nat.address}:${r.nat.port}` : ''})`,
            );
        } else {
          bindings.delete(r.homeAddress);
          o.onBinding?.(r.homeAddress, undefined);
          log.info(
            { event: 'binding.removed', hoa: r.homeAddress, reason: r.reason },
            `binding ${r.homeAddress} ${r.reason}`,
          );
        }
        return;
      case 'HA.DROPPED':
        drop(r.reason, { hoa: r.homeAddress, saHoa: r.saHomeAddress });
        log.warn(
          { event: 'bu.spoofed', hoa: r.homeAddress, saHoa: r.saHomeAddress },
          'BU for another home address: dropped',
        );
        return;
      case 'HA.REJECTED':
        log.info(
          { event: 'bu.rejected', hoa: r.homeAddress, status: r.status },
          `BU rejected with ${r.status}`,
        );
        return;
      case 'HA.FAILED':
        log.error({ event: 'failed', reason: r.reason }, `home agent failed: ${r.reason}`);
        resolveDone({ failed: true, reason: r.reason });
        return;
      default:
        log.debug({ event: r.type, ...r }, r.type);
    }
  };

  // The supervisor and its binding cache (entries as snapshots, one timer queue: bench/README.md).
  const core = createHomeAgentCore({
    input: o.input,
    clock: o.clock,
    sendBindingAck,
    report: onReport,
    ...(o.inspect ? { inspect: o.inspect } : {}),
  });
  const actor = core.actor;
  actor.subscribe({ error: (e) => resolveDone({ failed: true, reason: String(e) }) });
  actor.start();

  /** A BU in an IPv6 packet: ESP-checked, decoded, handed to the supervisor. */
  const receive = (packet: Uint8Array, from?: Datagram): void => {
    o.onPacket?.('in', packet);
    const opened = o.crypto.open(packet);
    if (!opened.ok) {
      drop(opened.reason);
      return;
    }
    if (opened.message.kind !== 'bindingUpdate') {
      drop('not-a-bu', { kind: opened.message.kind });
      return;
    }
    counters.buReceived++;
    const hao = opened.ipv6.extensions
      .flatMap((e) => (e.kind === 'destinationOptions' ? e.options : []))
      .find((x) => x.kind === 'homeAddress');
    const event = buReceived(opened.message, {
      homeAddress: hao?.kind === 'homeAddress' ? hao.address : opened.ipv6.src,
      ipv6Source: opened.ipv6.src,
      saHomeAddress: opened.saHomeAddress,
      ...(from ? { udp: { address: from.address, port: from.port } } : {}),
    });
    if (log.isLevelEnabled('debug'))
      log.debug({ event: 'bu.received', hoa: event.homeAddress, sequence: event.sequence }, 'BU received');
    core.send(event);
  };

  if (o.addresses.ipv4) {
    udp = await o.udp.bind(4, o.addresses.ipv4, o.udpPort);
    const haIpv6 = ipv6TextToBytes(o.addresses.ipv6) ?? new Uint8Array(16);
    udp.onMessage((d) => {
      // RFC 5555 §4.1: the packet after the UDP header is signalling (IPv6/ESP to the HA) or data.
      if (isSignalling(d.data, haIpv6)) receive(d.data, d);
      else if (o.onTunnelData) o.onTunnelData(d);
      else
        drop(
          d.data.length && d.data[0]! >> 4 === 4 ? 'ipv4-data-without-data-plane' : 'data-without-data-plane',
        );
    });
  }
  o.ip?.onPacket((p) => receive(p));
  log.info(
    { event: 'started', ipv6: o.addresses.ipv6, ipv4: o.addresses.ipv4 ?? null, udpPort: o.udpPort },
    `home agent up: ${o.addresses.ipv6}${o.addresses.ipv4 ? `, ${o.addresses.ipv4}:${o.udpPort}` : ''}`,
  );

  return {
    bindings: () => [...bindings.values()],
    counters: () => counters,
    bindingCache: () => ({ entries: core.cache.size, timers: core.cache.pendingTimers }),
    done,
    async stop() {
      core.stop();
      await udp?.close();
      await o.ip?.close();
      resolveDone({ failed: false });
    },
  };
}
