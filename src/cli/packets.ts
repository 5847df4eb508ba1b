/**
 * `dsmip6 packets`: the signalling of one mobile node's walk, built with dsmip6's codec, printed
 * decoded and saved as a pcap: the packet shapes RFC 5555 §4 prescribes for each kind of network,
 * to read in Wireshark.
 */

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  BaStatus,
  baFlags,
  buFlags,
  DSMIPV6_UDP_PORT,
  dissect,
  emitIpv4,
  emitIpv6,
  emitMobilityPacket,
  emitPcap,
  encapsulate,
  finish,
  IpProto,
  Ipv4AckStatus,
  type Ipv4Address,
  ipv4,
  ipv6,
  ipv6TextToBytes,
  type MobilityMessage,
  type MobilityOption,
  NATD_REFRESH_NOT_NEEDED,
  pseudoSum,
  summarize,
  sumWords,
} from '../wire/index.js';
import type { Io } from './main.js';

/** Addresses of the walk: documentation ranges only (RFC 3849, RFC 5737). */
const A = {
  hoa: ipv6('2001:db8:1::100'),
  ha6: ipv6('2001:db8:1::1'),
  ha4: ipv4('198.51.100.1'),
  hoa4: ipv4('192.0.2.100'),
  coa6: ipv6('2001:db8:20::10'),
  coa4: ipv4('203.0.113.10'),
  private4: ipv4('10.0.0.10'),
  natPublic: ipv4('203.0.113.200'),
  cn6: ipv6('2001:db8:99::5'),
  cn4: ipv4('198.51.100.99'),
};
const NATKATIMEOUT = 110; // RFC 5555 §6
const LIFETIME = 400;

export interface DemoStep {
  readonly title: string;
  readonly packets: readonly { readonly note: string; readonly bytes: Uint8Array }[];
}

const bu = (sequence: number, lifetime: number, options: readonly MobilityOption[]): MobilityMessage => ({
  kind: 'bindingUpdate',
  sequence,
  flags: buFlags({ A: true, H: true }),
  lifetime,
  options,
});

const ba = (sequence: number, lifetime: number, options: readonly MobilityOption[]): MobilityMessage => ({
  kind: 'bindingAcknowledgement',
  status: BaStatus.Accepted,
  flags: baFlags(),
  sequence,
  lifetime,
  options,
});

const ipv4Ack = {
  kind: 'ipv4AddressAcknowledgement',
  status: Ipv4AckStatus.Success,
  prefixLength: 32,
  address: A.hoa4,
} as const;

/** A small ICMP echo (IPv4) or ICMPv6 echo (IPv6) from the correspondent node, as tunnel payload. */
function echo4(src: typeof A.cn4, dst: typeof A.hoa4): Uint8Array {
  const icmp = Uint8Array.of(8, 0, 0xf7, 0xfe, 0, 1, 0, 0); // type 8 code 0, id 1 seq 0, checksum precomputed
  return emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      identification: 1,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 63,
      protocol: 1,
      src,
      dst,
    },
    icmp,
  );
}

function echo6(): Uint8Array {
  const icmp = Uint8Array.of(128, 0, 0, 0, 0, 1, 0, 0); // echo request, id 1 seq 0
  const ph = { src: ipv6TextToBytes(A.cn6)!, dst: ipv6TextToBytes(A.hoa)! };
  const sum = finish(sumWords(icmp, 0, icmp.length, pseudoSum(ph, icmp.length, IpProto.ICMPv6)));
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  return emitIpv6(
    {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 63,
      src: A.cn6,
      dst: A.hoa,
      extensions: [],
      protocol: IpProto.ICMPv6,
    },
    icmp,
  );
}

const MN_UDP_PORT = 49152;
const NAT_MAPPED_PORT = 61001;

/**
 * An IPv4 registration (RFC 5555 §4.2): the BU as the MN sends it from `coa4`, always in UDP with
 * the IPv4 CoA option, and the BA the HA returns to the source it observed (`seenFrom`: the NAT's
 * address and mapped port when they differ from the CoA), carrying NAT Detection.
 */
function udpRegistration(
  seq: number,
  coa4: Ipv4Address,
  seenFrom: Ipv4Address,
  refreshTime: number,
): [Uint8Array, Uint8Array] {
  const natted = seenFrom !== coa4;
  const buBytes = encapsulate(
    { family: 4, src: coa4, dst: A.ha4, udp: { srcPort: MN_UDP_PORT, dstPort: DSMIPV6_UDP_PORT } },
    emitMobilityPacket(
      { src: A.hoa, dst: A.ha6 },
      bu(seq, LIFETIME, [
        { kind: 'ipv4HomeAddress', prefixLength: 32, p: false, address: A.hoa4 },
        { kind: 'ipv4CareOfAddress', address: coa4 },
      ]),
    ),
  );
  const baBytes = encapsulate(
    {
      family: 4,
      src: A.ha4,
      dst: seenFrom,
      udp: { srcPort: DSMIPV6_UDP_PORT, dstPort: natted ? NAT_MAPPED_PORT : MN_UDP_PORT },
    },
    emitMobilityPacket(
      { src: A.ha6, dst: A.hoa },
      ba(seq, LIFETIME, [ipv4Ack, { kind: 'natDetection', f: false, refreshTime }]),
    ),
  );
  return [buBytes, baBytes];
}

/** The walk: IPv6 visited network, public IPv4, private IPv4 behind NAT, home. */
export function demoWalk(): DemoStep[] {
  let seq = 0x4a10; // an MN starts anywhere (RFC 6275 §11.7.1)
  const steps: DemoStep[] = [];

  seq++;
  steps.push({
    title:
      'IPv6 visited network: RFC 6275 BU with Home Address option, Alternate CoA and a dynamic IPv4 HoA request',
    packets: [
      {
        note: 'MN -> HA',
        bytes: emitMobilityPacket(
          { src: A.coa6, dst: A.ha6, homeAddress: A.hoa },
          bu(seq, LIFETIME, [
            { kind: 'alternateCareOfAddress', address: A.coa6 },
            { kind: 'ipv4HomeAddress', prefixLength: 32, p: false, address: ipv4('0.0.0.0') },
          ]),
        ),
      },
      {
        note: 'HA -> MN (Type 2 routing header, IPv4 HoA assigned)',
        bytes: emitMobilityPacket(
          { src: A.ha6, dst: A.coa6, routingHomeAddress: A.hoa },
          ba(seq, LIFETIME, [ipv4Ack]),
        ),
      },
      {
        note: 'CN -> MN data, IPv6-in-IPv6',
        bytes: encapsulate({ family: 6, src: A.ha6, dst: A.coa6 }, echo6()),
      },
      {
        note: 'CN -> MN data, IPv4-in-IPv6',
        bytes: encapsulate({ family: 6, src: A.ha6, dst: A.coa6 }, echo4(A.cn4, A.hoa4)),
      },
    ],
  });

  seq++;
  const [buPublic, baPublic] = udpRegistration(seq, A.coa4, A.coa4, NATD_REFRESH_NOT_NEEDED);
  steps.push({
    title: 'Public IPv4 network: BU in IPv4/UDP 4191 with IPv4 CoA option; HA finds no NAT',
    packets: [
      { note: 'MN -> HA', bytes: buPublic },
      { note: 'HA -> MN (NAT Detection: no NAT, no keepalives)', bytes: baPublic },
      {
        note: 'CN -> MN data, IPv6-in-IPv4 (protocol 41)',
        bytes: encapsulate({ family: 4, src: A.ha4, dst: A.coa4 }, echo6()),
      },
      {
        note: 'CN -> MN data, IPv4-in-IPv4 (protocol 4)',
        bytes: encapsulate({ family: 4, src: A.ha4, dst: A.coa4 }, echo4(A.cn4, A.hoa4)),
      },
    ],
  });

  seq++;
  const [buNat, baNat] = udpRegistration(seq, A.private4, A.natPublic, NATKATIMEOUT);
  steps.push({
    title: 'Private IPv4 network behind NAT: the HA sees the NAT address, answers with NAT Detection',
    packets: [
      { note: 'MN -> HA as sent (private source 10.0.0.10)', bytes: buNat },
      { note: 'HA -> NAT mapping (keepalive every 110 s)', bytes: baNat },
      {
        note: 'CN -> MN data, IPv4 in UDP through the NAT',
        bytes: encapsulate(
          { family: 4, src: A.ha4, dst: A.natPublic, udp: { srcPort: 4191, dstPort: NAT_MAPPED_PORT } },
          echo4(A.cn4, A.hoa4),
        ),
      },
    ],
  });

  seq++;
  steps.push({
    title: 'Home: deregistration, lifetime 0 from the home address (RFC 6275 §11.5.5)',
    packets: [
      { note: 'MN -> HA', bytes: emitMobilityPacket({ src: A.hoa, dst: A.ha6 }, bu(seq, 0, [])) },
      { note: 'HA -> MN', bytes: emitMobilityPacket({ src: A.ha6, dst: A.hoa }, ba(seq, 0, [])) },
    ],
  });
  return steps;
}

export function runPackets(argv: readonly string[], io: Io): number {
  let pcapFile: string;
  try {
    const { values } = parseArgs({ args: [...argv], options: { pcap: { type: 'string' } } });
    pcapFile = values.pcap ?? 'dsmip6-packets.pcap';
  } catch (e) {
    io.err(`dsmip6 packets: ${(e as Error).message}\nusage: dsmip6 packets [--pcap FILE]`);
    return 2;
  }
  const steps = demoWalk();
  const records: { timestampMicros: number; data: Uint8Array }[] = [];
  let t = Date.now() * 1000;
  io.out(
    'dsmip6 packets: the signalling of a walk IPv6 -> public IPv4 -> NAT -> home, built by the codec (without ESP)\n',
  );
  for (const step of steps) {
    io.out(`== ${step.title}`);
    for (const p of step.packets) {
      io.out(`   ${p.note}`);
      io.out(`     ${summarize(dissect(p.bytes))}`);
      records.push({ timestampMicros: t, data: p.bytes });
      t += 250_000;
    }
    io.out('');
  }
  try {
    writeFileSync(pcapFile, emitPcap(records));
  } catch (e) {
    io.err(`dsmip6 packets: cannot write ${pcapFile}: ${(e as Error).message}`);
    return 1;
  }
  io.out(`Saved ${records.length} packets to ${pcapFile}.`);
  io.out(
    `Open it with: tshark -r ${pcapFile} -d udp.port==4191,ip -V   (or Wireshark: Decode As UDP 4191 -> IP)`,
  );
  return 0;
}
