/**
 * The mobile node process's actor layer: the mobileNode supervisor (src/machines/mobile-node.ts)
 * wired to ports. Link and address changes feed movement detection; `resolve` effects go to DNS;
 * `sendBindingUpdate` effects become ESP-protected BUs, native over IPv6 from an IPv6 care-of
 * address or inside IPv4/UDP to port 4191 from an IPv4 one (RFC 5555 §4.1); BAs come back as
 * `BA.RECEIVED` with their round trip (RFC 6275 §11.7.3 counts the lifetime from the BU's sending).
 */

import type { Logger } from 'pino';
import { createActor, type InspectionEvent } from 'xstate';
import { isSignalling } from '../dataplane/packet.js';
import {
  type MnSendBindingUpdateParams,
  type MnStatus,
  type MobileNodeInput,
  type MobileNodeReport,
  mobileNodeMachine,
} from '../machines/mobile-node.js';
import type {
  Clock,
  Datagram,
  DnsPort,
  IpPacketPort,
  LinkMonitor,
  UdpPort,
  UdpPortFactory,
} from '../net/ports.js';
import { DSMIPV6_UDP_PORT, ipv6, ipv6TextToBytes, type MobilityPacketFields } from '../wire/index.js';
import type { MobilityCrypto } from './crypto.js';
import { baReceived, bindingUpdateFor } from './messages.js';

/** How long a stopping mobile node waits for its deregistration to be acknowledged. */
export const SHUTDOWN_WAIT_MS = 2_000;

export interface MnRuntimeOptions {
  readonly input: MobileNodeInput;
  readonly crypto: MobilityCrypto;
  readonly udp: UdpPortFactory;
  /** Local UDP port for BUs from IPv4 networks (0: ephemeral). */
  readonly udpPort?: number;
  readonly haUdpPort?: number;
  /** Raw IPv6 for BUs from an IPv6 care-of address; without it IPv6 attachments cannot register. */
  readonly ip?: IpPacketPort;
  readonly dns: DnsPort;
  readonly links: LinkMonitor;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onPacket?: (direction: 'in' | 'out', packet: Uint8Array) => void;
  /** xstate's inspection observer (the live inspector's collector), given to the supervisor actor. */
  readonly inspect?: (event: InspectionEvent) => void;
  /** UDP-encapsulated data (not signalling) from the home agent: the data plane's, when there is one. */
  readonly onTunnelData?: (datagram: Datagram) => void;
  /** What the data plane must do now; called whenever the registration, NAT verdict or IPv4 HoA changes. */
  readonly onTunnelState?: (state: MnTunnelState) => void;
}

/** The data plane's view of the registration (RFC 5555 §4.1 picks the encapsulation). */
export interface MnTunnelState {
  /** Physically at home: home-address traffic uses the home link, nothing is tunnelled. */
  readonly atHome: boolean;
  /** At home and the HA acknowledged the deregistration: time to announce the home addresses on the link. */
  readonly homeRegistered: boolean;
  /**
   * The route the last BA confirmed; kept while a BU for a new care-of address is outstanding
   * (switching happens when its BA arrives, not before); null before the first registration.
   */
  readonly route: {
    readonly mode: 'ip6' | 'ip4' | 'udp';
    readonly careOf: string;
    readonly homeAgent: string;
    readonly udp?: { readonly localPort: number; readonly remotePort: number };
  } | null;
  readonly homeAgent: { readonly ipv6?: string; readonly ipv4?: string } | null;
  readonly ipv4HomeAddress?: string;
}

export interface MnCounters {
  buSent: number;
  /** Sequence number of the last BU sent (null before the first). */
  lastSequence: number | null;
  baReceived: number;
  dropped: Record<string, number>;
}

export interface MnRuntime {
  status(): MnStatus | undefined;
  counters(): MnCounters;
  readonly done: Promise<{ failed: boolean; reason?: string }>;
  stop(): Promise<void>;
}

export async function startMobileNode(o: MnRuntimeOptions): Promise<MnRuntime> {
  const log = o.log.child({ actor: 'mn', hoa: o.input.homeAddress });
  const counters: MnCounters = { buSent: 0, lastSequence: null, baReceived: 0, dropped: {} };
  const drop = (reason: string, detail: object = {}): void => {
    counters.dropped[reason] = (counters.dropped[reason] ?? 0) + 1;
    log.debug({ event: 'drop', reason, ...detail }, `dropped: ${reason}`);
  };
  let status: MnStatus | undefined;
  let resolveDone: (v: { failed: boolean; reason?: string }) => void = () => {};
  const done = new Promise<{ failed: boolean; reason?: string }>((r) => {
    resolveDone = r;
  });
  /** When each BU left, by sequence number, for the BA's round trip. */
  const sentAt = new Map<number, number>();
  /** Which HA each outstanding BU went to (BAs name no HA; the sequence tells). */
  const haOfSequence = new Map<number, string>();
  const udp: UdpPort = await o.udp.bind(4, '0.0.0.0', o.udpPort ?? 0);

  const sendBindingUpdate = (p: MnSendBindingUpdateParams): void => {
    const message = bindingUpdateFor(p);
    const hoa = ipv6(p.homeAddress);
    if (!p.ha.ipv6) {
      drop('ha-without-ipv6-address', { ha: p.haName });
      return;
    }
    const ha = ipv6(p.ha.ipv6);
    const fields: MobilityPacketFields =
      p.attachment === 'ipv6'
        ? // RFC 6275 §11.7.1: from the care-of address, with the Home Address option.
          { src: ipv6(p.careOf), dst: ha, homeAddress: hoa }
        : // From home (deregistration) and inside UDP from IPv4 (RFC 5555 §4.2): source = HoA.
          { src: hoa, dst: ha };
    const packet = o.crypto.seal(fields, message, p.homeAddress);
    o.onPacket?.('out', packet);
    sentAt.set(p.sequence, o.clock.now());
    haOfSequence.set(p.sequence, p.haName);
    if (sentAt.size > 64) {
      const oldest = sentAt.keys().next().value as number;
      sentAt.delete(oldest);
      haOfSequence.delete(oldest);
    }
    counters.buSent++;
    counters.lastSequence = p.sequence;
    log.info(
      {
        event: 'bu.sent',
        sequence: p.sequence,
        coa: p.careOf,
        attachment: p.attachment,
        lifetime: p.lifetimeSeconds,
      },
      `BU seq ${p.sequence} via ${p.attachment} ${p.careOf}`,
    );
    const fail = (e: Error) =>
      log.warn({ event: 'send.failed', error: e.message }, `BU send failed: ${e.message}`);
    if (p.attachment === 'ipv4') {
      if (!p.ha.ipv4) {
        drop('ha-without-ipv4-address', { ha: p.haName });
        return;
      }
      // RFC 5555 §4.1: BUs from IPv4-only networks always go in UDP to port 4191.
      udp.send({ data: packet, address: p.ha.ipv4, port: o.haUdpPort ?? DSMIPV6_UDP_PORT }).catch(fail);
    } else if (o.ip) {
      o.ip.send(packet).catch(fail);
    } else {
      drop('no-ipv6-port');
    }
  };

  let haBytes: { text: string; bytes: Uint8Array | undefined } | undefined;
  /** The HA's IPv6 address as bytes (signalling is IPv6/ESP from it), converted once per HA. */
  const haIpv6Bytes = (): Uint8Array | undefined => {
    const text = status?.ha?.ipv6;
    if (!text) return undefined;
    if (haBytes?.text !== text) haBytes = { text, bytes: ipv6TextToBytes(text) };
    return haBytes.bytes;
  };
  let tunnelRoute: MnTunnelState['route'] = null;
  let tunnelIpv4: string | undefined;
  let lastTunnelState = '';
  /** Recomputes the data plane's state from the latest status and NAT verdict (RFC 5555 §4.1). */
  const updateTunnel = (): void => {
    if (!o.onTunnelState || !status) return;
    const s = status;
    const atHome = s.attachment === 'home';
    if (atHome) tunnelRoute = null;
    else if (s.registration === 'registered' && s.careOf && s.ha && s.attachment !== 'detached') {
      if (s.attachment === 'ipv6' && s.ha.ipv6) {
        tunnelRoute = { mode: 'ip6', careOf: s.careOf, homeAgent: s.ha.ipv6 };
      } else if (s.attachment === 'ipv4' && s.ha.ipv4) {
        const udpMode = natDetected === true || o.input.forceUdp;
        tunnelRoute = udpMode
          ? {
              mode: 'udp',
              careOf: s.careOf,
              homeAgent: s.ha.ipv4,
              udp: { localPort: udp.local().port, remotePort: o.haUdpPort ?? DSMIPV6_UDP_PORT },
            }
          : { mode: 'ip4', careOf: s.careOf, homeAgent: s.ha.ipv4 };
      }
    }
    // Like the route, the IPv4 home address follows confirmed registrations only (a BU in flight
    // after a move carries no verdict on it yet).
    if (s.registration === 'registered') tunnelIpv4 = s.ipv4?.address;
    const ipv4HomeAddress = tunnelIpv4;
    const state: MnTunnelState = {
      atHome,
      homeRegistered: atHome && s.registration === 'home',
      route: tunnelRoute,
      homeAgent: s.ha
        ? { ...(s.ha.ipv6 ? { ipv6: s.ha.ipv6 } : {}), ...(s.ha.ipv4 ? { ipv4: s.ha.ipv4 } : {}) }
        : null,
      ...(ipv4HomeAddress ? { ipv4HomeAddress } : {}),
    };
    const key = JSON.stringify(state);
    if (key === lastTunnelState) return;
    lastTunnelState = key;
    o.onTunnelState(state);
  };

  let afterDeregistration: (() => void) | undefined;
  const onReport = (r: MobileNodeReport): void => {
    if (r.type === 'MN.STATUS') {
      status = r;
      updateTunnel();
      if (r.registration !== 'registered' && r.registration !== 'registering') afterDeregistration?.();
      log.info(
        {
          event: 'status',
          registration: r.registration,
          ha: r.haName,
          attachment: r.attachment,
          coa: r.careOf,
          nat: r.natDetected,
          ipv4: r.ipv4?.address ?? null,
        },
        `${r.registration}${r.careOf ? ` via ${r.careOf}` : ''}${r.reason ? ` (${r.reason})` : ''}`,
      );
    } else if (r.type === 'MN.FAILED') {
      log.error({ event: 'failed', reason: r.reason }, `mobile node failed: ${r.reason}`);
      resolveDone({ failed: true, reason: r.reason });
    } else {
      log.warn({ event: r.type, child: r.child, error: r.error }, `child ${r.child} restarted`);
    }
  };

  const actor = createActor(
    mobileNodeMachine.provide({
      actions: {
        sendBindingUpdate: (_, p) => sendBindingUpdate(p),
        resolve: (_, p) => {
          for (const q of p.queries) {
            o.dns.resolve(q.name, q.type).then((a) => {
              actor.send(
                a.ok
                  ? {
                      type: 'DNS.ANSWER',
                      name: q.name,
                      rrType: q.type,
                      ttlSeconds: a.ttlSeconds,
                      ...(a.addresses ? { addresses: a.addresses } : {}),
                      ...(a.srv ? { srv: a.srv } : {}),
                    }
                  : { type: 'DNS.FAILURE', name: q.name, rrType: q.type, reason: a.reason },
              );
            });
          }
        },
        report: (_, r) => onReport(r),
      },
    }),
    { input: o.input, clock: o.clock, ...(o.inspect ? { inspect: o.inspect } : {}) },
  );
  let natDetected: boolean | null = null;
  actor.subscribe({
    next: (snap) => {
      // The HA's NAT verdict reaches the supervisor after the registration report; keep it live.
      if (snap.status === 'active' && snap.context.natDetected !== natDetected) {
        natDetected = snap.context.natDetected;
        updateTunnel();
        log.info(
          { event: 'nat', nat: natDetected },
          natDetected ? 'behind a NAT (HA says so)' : 'no NAT (HA says so)',
        );
      }
    },
    error: (e) => resolveDone({ failed: true, reason: String(e) }),
  });
  actor.start();

  const receive = (packet: Uint8Array): void => {
    o.onPacket?.('in', packet);
    const opened = o.crypto.open(packet);
    if (!opened.ok) {
      drop(opened.reason);
      return;
    }
    const m = opened.message;
    const haName = 'sequence' in m ? haOfSequence.get(m.sequence) : undefined;
    if (m.kind === 'bindingAcknowledgement') {
      counters.baReceived++;
      const at = sentAt.get(m.sequence);
      // A 135 names the HA's last accepted number, not ours: it belongs to the HA in use.
      const name = haName ?? status?.haName ?? undefined;
      if (!name) {
        drop('ba-for-unknown-ha');
        return;
      }
      actor.send(baReceived(name, m, at === undefined ? undefined : o.clock.now() - at));
    } else if (m.kind === 'bindingError' && status?.haName) {
      actor.send({ type: 'BE.RECEIVED', haName: status.haName, status: m.status });
    } else if (m.kind === 'bindingRefreshRequest' && status?.haName) {
      actor.send({ type: 'BRR.RECEIVED', haName: status.haName });
    } else {
      drop('unexpected-message', { kind: m.kind });
    }
  };
  udp.onMessage((d: Datagram) => {
    // RFC 5555 §4.1: after the UDP header comes signalling (IPv6/ESP from the HA) or tunnelled data.
    const ha = haIpv6Bytes();
    if (d.data.length && d.data[0]! >> 4 === 6 && (!ha || isSignalling(d.data, ha))) receive(d.data);
    else if (o.onTunnelData) o.onTunnelData(d);
    else
      drop(
        d.data.length && d.data[0]! >> 4 === 4 ? 'ipv4-data-without-data-plane' : 'data-without-data-plane',
      );
  });
  o.ip?.onPacket(receive);
  await o.links.start((ev) => actor.send(ev));
  log.info({ event: 'started' }, `mobile node up: home address ${o.input.homeAddress}`);

  return {
    status: () => (status ? { ...status, natDetected } : undefined),
    counters: () => counters,
    done,
    async stop() {
      await o.links.stop();
      // RFC 6275 §6.1.7: leaving deletes the binding (lifetime 0) so the HA stops tunnelling to a
      // node that is gone. Bounded in real time: an unreachable HA must not hold the process.
      if (status?.registration === 'registered') {
        const deregistered = new Promise<void>((resolve) => {
          afterDeregistration = resolve;
        });
        actor.send({ type: 'SHUTDOWN' });
        await Promise.race([deregistered, new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS))]);
      }
      actor.stop();
      await udp.close();
      await o.ip?.close();
      resolveDone({ failed: false });
    },
  };
}
